// helm-release: the release side of the repository (CONTRIBUTING.md, Releases).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import {
  type Bump,
  buildApiReport,
  bumpRank,
  declarationProgram,
  diffApiReports,
  formatApiReport,
  requiredBump,
} from './api-report.js';
import { diffEvidence, formatDiff } from './diff.js';
import {
  collectEvidence,
  maxBump,
  measureCoverage,
  plannedChangesets,
  type RepoEvidence,
} from './evidence.js';
import { buildManifest, signManifest, verifyManifest } from './manifest.js';
import { buildSbom } from './sbom.js';
import { API_REPORT, publishedOf, SBOM, workspacePackages } from './workspace.js';

/** Evidence per (tree, options) within one process: `diff` runs on the same refs share it. */
const evidenceCache = new Map<string, RepoEvidence>();

export const USAGE = `usage: helm-release <command> [options]

  update [--package @helm/x]        regenerate etc/api-report.md and etc/sbom.cdx.json (pnpm api:update)
  check                             committed API reports and SBOMs match the build and the lockfile,
                                    and every API change since the last release has a large enough
                                    changeset (pnpm api:check; part of make test)
  diff <ref-a> <ref-b> [--package @helm/x] [--json] [--all] [--build] [--coverage] [--no-pack]
                                    what changed per package (pnpm release:diff); WORKTREE = the
                                    working tree as it is (built, with coverage); exit 1 on findings.
                                    --coverage installs and builds each ref and runs the tests of the
                                    changed packages (or --package) there: line coverage of both refs,
                                    and a finding when the tests fail at <ref-b>
  manifest --key <private.pem> [--out <file>] [--commit <sha>]
                                    pack, digest and sign the release manifest (pnpm release:manifest)
  verify <manifest.json> --public-key <public.pem> [--tarballs <dir>] [--root <dir>] [--allow-empty]
                                    verify the signature and re-check digests (pnpm release:verify);
                                    --root also needs the checkout at the manifest's commit and
                                    versions; checking no digest at all fails unless --allow-empty
  --root <dir>                      repository root (default: the current directory)`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(['--package', '--key', '--out', '--commit', '--public-key', '--tarballs', '--root']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (valued.has(arg)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags.set(arg, value);
    } else if (arg.startsWith('--')) flags.set(arg, true);
    else positional.push(arg);
  }
  return { positional, flags };
}

const git = (root: string, args: string[]): string =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * The repository at `ref` in a temp folder, materialized the way a release checkout is: a clone of
 * the repository with `ref` checked out (`git checkout`, not `git archive`, which would obey the
 * tree's own .gitattributes `export-ignore` / `export-subst` and so diff a tree the release never
 * packs). Tracked files only, no build output. No hook of the clone runs (core.hooksPath is empty).
 */
export function materialize(root: string, ref: string, build: boolean): { dir: string; cleanup: () => void } {
  if (ref === 'WORKTREE') return { dir: root, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'helm-release-ref-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const commit = git(root, ['rev-parse', '--verify', `${ref}^{commit}`]);
    const quiet = { stdio: 'pipe' } as const;
    execFileSync('git', ['clone', '--quiet', '--no-checkout', '--shared', root, dir], quiet);
    execFileSync(
      'git',
      [
        '-c',
        'core.hooksPath=/dev/null',
        '-c',
        'advice.detachedHead=false',
        'checkout',
        '--quiet',
        '--detach',
        commit,
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    if (!build) linkWorkspace(dir);
    if (build) {
      execFileSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--ignore-scripts'], {
        cwd: dir,
        stdio: 'pipe',
      });
      execFileSync('pnpm', ['build'], { cwd: dir, stdio: 'pipe' });
    }
  } catch (error) {
    cleanup();
    throw new Error(
      `cannot materialize ${ref}: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`,
    );
  }
  return { dir, cleanup };
}

/**
 * The `node_modules/<name>` links of workspace dependencies that `pnpm install` would create:
 * enough for `pnpm pack` to rewrite `workspace:` ranges in a checkout that was never installed.
 */
export function linkWorkspace(root: string): void {
  const all = workspacePackages(root);
  const byName = new Map(all.map((p) => [p.name, p]));
  for (const p of all) {
    const deps = {
      ...p.manifest.peerDependencies,
      ...p.manifest.optionalDependencies,
      ...p.manifest.dependencies,
    };
    for (const [name, range] of Object.entries(deps)) {
      const target = byName.get(name);
      if (!target || !String(range).startsWith('workspace:')) continue;
      const link = join(p.absDir, 'node_modules', ...name.split('/'));
      if (existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(relative(dirname(link), target.absDir), link);
    }
  }
}

function owners(root: string): { dir: string; name: string }[] {
  return workspacePackages(root).map((p) => ({ dir: resolve(p.absDir), name: p.name }));
}

/** Freshly generated report and SBOM texts of every published package (needs a build). */
function generate(root: string, only?: string): Map<string, { dir: string; api: string; sbom: string }> {
  const all = workspacePackages(root);
  const own = owners(root);
  const out = new Map<string, { dir: string; api: string; sbom: string }>();
  const selected = all.filter((x) => x.published && (!only || x.name === only));
  const program = declarationProgram(selected.map((p) => p.absDir));
  for (const p of selected) {
    out.set(p.name, {
      dir: p.absDir,
      api: formatApiReport(buildApiReport(p.absDir, own, program)),
      sbom: `${JSON.stringify(buildSbom(root, p, all), null, 2)}\n`,
    });
  }
  if (only && out.size === 0) throw new UsageError(`${only} is not a published workspace package`);
  return out;
}

/** The commit of the package's last release: its `name@version` tag, else the last version change. */
function lastRelease(root: string, name: string, version: string, dir: string): string | undefined {
  try {
    return git(root, ['rev-parse', '--verify', '--quiet', `refs/tags/${name}@${version}^{commit}`]);
  } catch {}
  try {
    return (
      git(root, ['log', '-1', '--format=%H', '-G', '"version"', '--', `${dir}/package.json`]) || undefined
    );
  } catch {
    return undefined;
  }
}

function check(root: string, io: CliIo): number {
  const problems: string[] = [];
  const fresh = generate(root);
  for (const [name, g] of fresh) {
    const stale = (file: string, want: string): void => {
      const path = join(g.dir, file);
      const have = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
      if (have !== want)
        problems.push(`${name}: ${file} ${have === undefined ? 'missing' : 'differs from the build'}`);
    };
    stale(API_REPORT, g.api);
    stale(SBOM, g.sbom);
  }
  // Every API change since the package's last release needs pending changesets that bump enough.
  const changesets = plannedChangesets(root, workspacePackages(root));
  for (const p of publishedOf(root)) {
    const version = p.version;
    const base = lastRelease(root, p.name, version, p.dir);
    if (!base) continue;
    let before: string | undefined;
    try {
      before = execFileSync('git', ['show', `${base}:${p.dir}/${API_REPORT}`], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      continue; // no report at the last release: this report is the baseline
    }
    const g = fresh.get(p.name);
    const changes = diffApiReports(before, g?.api);
    const needed: Bump = requiredBump(changes, version);
    const got = maxBump(
      [...changesets.values()].flatMap((m) => (m.has(p.name) ? [m.get(p.name) as Bump] : [])),
    );
    if (bumpRank(got) < bumpRank(needed)) {
      problems.push(
        `${p.name}: API changed since ${base.slice(0, 12)} (${changes.map((c) => `${c.kind} ${c.entry} ${c.name}`).join('; ')}) — needs a ${needed} changeset at ${version}, pending changesets give ${got}`,
      );
    }
  }
  for (const line of problems) io.out(`${line}\n`);
  io.out(
    problems.length === 0
      ? `api:check: ${fresh.size} API reports and SBOMs current; API changes covered by changesets\n`
      : `api:check: ${problems.length} problem(s) — run pnpm api:update, review the diff, add a changeset\n`,
  );
  return problems.length === 0 ? 0 : 1;
}

/** Runs the CLI; returns the exit code (0 ok, 1 findings/problems, 2 usage or internal error). */
export function main(argv: readonly string[], io: CliIo): number {
  try {
    const [command, ...rest] = argv;
    const { positional, flags } = parseArgs(rest);
    const root = resolve(io.cwd, (flags.get('--root') as string | undefined) ?? '.');
    const only = flags.get('--package') as string | undefined;
    switch (command) {
      case 'update': {
        for (const [name, g] of generate(root, only)) {
          mkdirSync(join(g.dir, 'etc'), { recursive: true });
          writeFileSync(join(g.dir, API_REPORT), g.api);
          writeFileSync(join(g.dir, SBOM), g.sbom);
          io.out(`api:update: ${name}\n`);
        }
        return 0;
      }
      case 'check':
        return check(root, io);
      case 'diff': {
        const [from, to] = positional;
        if (!from || !to) throw new UsageError('diff needs <ref-a> <ref-b>');
        // Coverage needs each ref's tests to run, and tests need the ref installed and built.
        const coverage = flags.has('--coverage');
        const build = flags.has('--build') || coverage;
        const packing = !flags.has('--no-pack');
        const refs: { dir: string; cleanup: () => void }[] = [];
        try {
          const sides = [from, to].map((ref) => {
            // A committed tree's evidence is a pure function of the tree and the options.
            const tree =
              ref === 'WORKTREE' ? undefined : git(root, ['rev-parse', '--verify', `${ref}^{tree}`]);
            const key = tree && !coverage && JSON.stringify([root, tree, build, packing, only ?? null]);
            const hit = key ? evidenceCache.get(key) : undefined;
            if (hit) return { dir: undefined, evidence: hit };
            const r = materialize(root, ref, build);
            refs.push(r);
            const evidence = collectEvidence(r.dir, { pack: packing, ...(only ? { only } : {}) });
            if (key) evidenceCache.set(key, evidence);
            return { dir: r.dir, evidence };
          });
          let [a, b] = sides.map((s) => s.evidence) as [RepoEvidence, RepoEvidence];
          if (coverage) {
            // The packages worth the test runs: the one asked for, else those whose sources differ.
            const names = [...new Set([...a.packages.keys(), ...b.packages.keys()])].filter(
              (n) => only === n || a.packages.get(n)?.sourceDigest !== b.packages.get(n)?.sourceDigest,
            );
            io.err(
              `release:diff: running the tests of ${names.length} package(s) in each ref for coverage\n`,
            );
            [a, b] = sides.map((s) => measureCoverage(s.dir as string, s.evidence, names)) as [
              RepoEvidence,
              RepoEvidence,
            ];
          }
          const diff = diffEvidence(from, to, a, b);
          io.out(
            flags.has('--json')
              ? `${JSON.stringify(diff, null, 2)}\n`
              : `${formatDiff(diff, { all: flags.has('--all') })}\n`,
          );
          return diff.findings.length === 0 ? 0 : 1;
        } finally {
          for (const r of refs) r.cleanup();
        }
      }
      case 'manifest': {
        const key = flags.get('--key');
        if (typeof key !== 'string') throw new UsageError('manifest needs --key <private.pem>');
        const commit = (flags.get('--commit') as string | undefined) ?? git(root, ['rev-parse', 'HEAD']);
        const envelope = signManifest(
          buildManifest(root, commit),
          readFileSync(resolve(io.cwd, key), 'utf8'),
        );
        const text = `${JSON.stringify(envelope, null, 2)}\n`;
        const out = flags.get('--out');
        if (typeof out === 'string') {
          mkdirSync(dirname(resolve(io.cwd, out)), { recursive: true });
          writeFileSync(resolve(io.cwd, out), text);
          io.out(`release:manifest: wrote ${out}\n`);
        } else io.out(text);
        return 0;
      }
      case 'verify': {
        const [file] = positional;
        const pub = flags.get('--public-key');
        if (!file || typeof pub !== 'string')
          throw new UsageError('verify needs <manifest.json> --public-key <pem>');
        const tarballs = flags.get('--tarballs');
        let result = verifyManifest(
          JSON.parse(readFileSync(resolve(io.cwd, file), 'utf8')),
          readFileSync(resolve(io.cwd, pub), 'utf8'),
          {
            ...(typeof tarballs === 'string' ? { tarballDir: resolve(io.cwd, tarballs) } : {}),
            ...(flags.has('--root') ? { root } : {}),
          },
        );
        // A valid signature over digests nobody re-computed proves nothing about the files at hand.
        if (result.ok && result.checked === 0 && !flags.has('--allow-empty')) {
          result = {
            ...result,
            ok: false,
            problems: [
              'nothing verified beyond the signature: give --tarballs and/or --root (--allow-empty to accept a signature-only check)',
            ],
          };
        }
        if (flags.has('--json'))
          io.out(
            `${JSON.stringify({ ok: result.ok, problems: result.problems, checked: result.checked })}\n`,
          );
        else {
          for (const p of result.problems) io.out(`FAIL ${p}\n`);
          io.out(
            result.ok
              ? `release:verify: signature valid; ${result.checked} digest(s) match (${result.body?.packages.length} packages, commit ${result.body?.commit})\n`
              : `release:verify: ${result.problems.length} problem(s)\n`,
          );
        }
        return result.ok ? 0 : 1;
      }
      case '--help':
      case '-h':
        io.out(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    }
  } catch (error) {
    if (error instanceof UsageError) io.err(`helm-release: ${error.message}\n${USAGE}\n`);
    else io.err(`helm-release: error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 2;
  }
}
