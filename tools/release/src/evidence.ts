// Everything release:diff compares, gathered from one checkout of the repository: per published
// package its version, committed API report and SBOM, pending changesets, TCB policy entry and
// tcb-check report (reused from tools/tcb-check), reason codes, LOC, coverage and packed tarball;
// and, repository-wide, the docs/spec pages with the format versions they name.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { assembleReleasePlan } from '@changesets/assemble-release-plan';
import { defaultWrittenConfig, validateConfig } from '@changesets/config';
import { parseChangesetFile } from '@changesets/parse';
import type { Config, Packages, PreState } from '@changesets/types';
import { runCheck } from '@helm/tcb-check/dist/check.js';
import { parsePolicy } from '@helm/tcb-check/dist/policy.js';
import { buildReport, type PackageReport } from '@helm/tcb-check/dist/report.js';
import { parse as parseYaml } from 'yaml';
import { type Bump, buildApiReport, bumpRank, declarationProgram, formatApiReport } from './api-report.js';
import { buildSbom } from './sbom.js';
import { pack, type TarballFile } from './tarball.js';
import { API_REPORT, SBOM, type WorkspacePackage, workspacePackages } from './workspace.js';

export interface PackageEvidence {
  readonly name: string;
  readonly dir: string;
  readonly version: string;
  readonly tcb: boolean;
  /**
   * The API report regenerated from this checkout's declarations when they are there (hand-written
   * or built), else the committed etc/api-report.md (`apiSource` says which).
   */
  readonly apiReport: string | undefined;
  readonly apiSource?: 'generated' | 'committed';
  /** The SBOM generated from this checkout's pnpm-lock.yaml, else the committed one (`sbomSource`). */
  readonly sbom: string | undefined;
  readonly sbomSource?: 'generated' | 'committed';
  /**
   * Committed evidence files that differ from what this checkout generates (`etc/api-report.md`,
   * `etc/sbom.cdx.json`): the contributor's files, which a reviewer must not rely on.
   */
  readonly stale?: readonly string[];
  /**
   * Pending changeset files (name → the bump `changeset version` applies to this package from that
   * file alone: parsed by @changesets/parse, planned by @changesets/assemble-release-plan with the
   * checkout's .changeset/config.json, so `ignore`, `fixed` and dependents count as they will).
   */
  readonly changesets: ReadonlyMap<string, Bump>;
  /** The package's `TCB_POLICY.md` entry (JSON value), or undefined when it has none. */
  readonly policy: unknown;
  /** tcb-check's report for the package, coverage left out (it is reported separately). */
  readonly tcbReport: Omit<PackageReport, 'coverage'> | undefined;
  readonly reasonCodes: readonly string[];
  readonly linesOfCode: number;
  /** Line coverage in percent, when the checkout has a coverage summary. */
  readonly coverage: number | undefined;
  /**
   * Exit code of the package's `test` script when release:diff ran it in this checkout
   * (`--coverage`); undefined when the coverage, if any, was read from a summary already there.
   */
  readonly testExitCode?: number;
  /** Tarball digest and files; `skipped` says why when the package could not be packed. */
  readonly tarball: { sha256: string; filename: string; files: readonly TarballFile[] } | { skipped: string };
  /**
   * SHA-256 over every file the package would ship (npm-packlist rules: `files` entries plus the
   * always-included package.json / README / LICENSE / main / bin; the whole folder without
   * `files`), its build inputs (src/, tsconfig*.json, .npmignore) and the repository settings that
   * shape every pack (`packInputs`): whether it changed at all, built or not.
   */
  readonly sourceDigest: string;
}

export interface SpecPage {
  readonly sha256: string;
  readonly formats: readonly string[];
}

export interface RepoEvidence {
  readonly packages: ReadonlyMap<string, PackageEvidence>;
  readonly spec: ReadonlyMap<string, SpecPage>;
  /** Whether the checkout has a TCB_POLICY.md (undefined: not recorded). */
  readonly policyPresent?: boolean;
  /** Changeset files that count no bump, and why (unparseable, or refused by the planner). */
  readonly changesetProblems?: readonly string[];
  /** Repository files and settings that shape every packed tarball: path → SHA-256 (packInputs). */
  readonly packInputs?: ReadonlyMap<string, string>;
}

const read = (file: string): string | undefined =>
  existsSync(file) ? readFileSync(file, 'utf8') : undefined;
const hash = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

const changesetFiles = (root: string): string[] => {
  const dir = join(root, '.changeset');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort();
};

/**
 * `.changeset/*.md` as @changesets/parse reads them (the parser `changeset version` uses): file →
 * package → bump. A file changesets cannot parse names nothing (`changeset version` fails on it).
 */
export function readChangesets(root: string): Map<string, Map<string, Bump>> {
  const out = new Map<string, Map<string, Bump>>();
  for (const file of changesetFiles(root)) {
    const bumps = new Map<string, Bump>();
    try {
      for (const r of parseChangesetFile(readFileSync(join(root, '.changeset', file), 'utf8')).releases)
        if (r.type !== 'none') bumps.set(r.name, r.type);
    } catch {}
    out.set(file, bumps);
  }
  return out;
}

/**
 * What `changeset version` would apply, per changeset file: each file's releases planned alone by
 * @changesets/assemble-release-plan against the workspace and .changeset/config.json (ignored
 * packages bump nothing, fixed groups and out-of-range dependents bump with it). A file the
 * planner refuses counts no bump (fail closed: the package then has to show another bump). An
 * invalid config is an error: nothing could be released from this ref.
 */
export function plannedChangesets(
  root: string,
  workspace: readonly WorkspacePackage[],
  problems: string[] = [],
): Map<string, Map<string, Bump>> {
  // The root package is part of changesets' dependency graph (no root: every lookup fails).
  const rootManifest = join(root, 'package.json');
  const packages: Packages = {
    rootDir: root,
    ...(existsSync(rootManifest)
      ? { rootPackage: { dir: root, packageJson: JSON.parse(readFileSync(rootManifest, 'utf8')) } }
      : {}),
    packages: workspace.map((p) => ({ dir: p.absDir, packageJson: p.manifest as never })),
    tool: { type: 'pnpm' },
  };
  const configFile = join(root, '.changeset', 'config.json');
  const written = existsSync(configFile)
    ? JSON.parse(readFileSync(configFile, 'utf8'))
    : defaultWrittenConfig;
  const parsed = validateConfig(written, packages);
  if (!parsed.config) throw new Error(`.changeset/config.json: ${parsed.errors.join('; ')}`);
  const config: Config = parsed.config;
  const preFile = join(root, '.changeset', 'pre.json');
  const pre = existsSync(preFile) ? (JSON.parse(readFileSync(preFile, 'utf8')) as PreState) : undefined;
  const out = new Map<string, Map<string, Bump>>();
  for (const [file, named] of readChangesets(root)) {
    const bumps = new Map<string, Bump>();
    out.set(file, bumps);
    if (named.size === 0) {
      problems.push(`${file}: names no package @changesets/parse can read`);
      continue;
    }
    try {
      const summary = parseChangesetFile(readFileSync(join(root, '.changeset', file), 'utf8')).summary;
      const releases = [...named].map(([name, type]) => ({
        name,
        type: type as 'major' | 'minor' | 'patch',
      }));
      const plan = assembleReleasePlan([{ id: file.slice(0, -3), summary, releases }], packages, config, pre);
      for (const r of plan.releases) if (r.type !== 'none') bumps.set(r.name, r.type);
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return out;
}

/** Index just past the literal that starts at `start` (`{` or `[`), or -1 when it does not close. */
function literalEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{' || text[i] === '[') depth++;
    else if (text[i] === '}' || text[i] === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Reason codes a package defines: the keys and upper-case string elements of every exported
 * `…CODES` constant in its sources (`export const REASON_CODES = { GATE_FROZEN: … }`,
 * `export const CHECK_CODES = ['…']`) — the registries the project keeps closed. A spread
 * (`...EXTRA`) or an initializer that is another constant is followed to that constant's literal
 * in the package's sources; one that cannot be followed is listed as `(unresolved EXTRA)`, so a
 * registry growing through it still shows as a change instead of silently not at all.
 */
export function reasonCodesOf(pkgDir: string): string[] {
  const codes = new Set<string>();
  const texts = walk(join(pkgDir, 'src'))
    .filter((f) => /\.[mc]?[jt]s$/.test(f))
    .map((f) => readFileSync(f, 'utf8'));
  /** The literal text of `const NAME = {…}` / `[…]` in the sources (first definition), if any. */
  const definition = (name: string): { text: string; start: number } | undefined => {
    for (const text of texts) {
      const m = new RegExp(`\\bconst\\s+${name}\\b[^=;]*=\\s*`).exec(text);
      if (!m) continue;
      let i = m.index + m[0].length;
      while (i < text.length && text[i] !== '{' && text[i] !== '[' && text[i] !== ';' && text[i] !== '\n')
        i++;
      if (text[i] === '{' || text[i] === '[') return { text, start: i };
      const alias = /^([A-Za-z_$][\w$]*)\s*(?:as const\s*)?;?\s*$/.exec(
        text.slice(m.index + m[0].length, i).trim(),
      );
      if (alias && alias[1] !== name) return definition(alias[1] as string);
      return undefined;
    }
    return undefined;
  };
  const collect = (text: string, start: number, seen: Set<string>): void => {
    const end = literalEnd(text, start);
    if (end === -1) return;
    // Top level of the literal only: `{ GATE_FROZEN: { verdict: 'DENY' } }` registers GATE_FROZEN,
    // not the verdict it carries.
    let body = text.slice(start + 1, end);
    while (/[{[][^{}[\]]*[}\]]/.test(body)) body = body.replace(/[{[][^{}[\]]*[}\]]/g, '');
    const pattern =
      text[start] === '{' ? /(?:^|[,{\s])['"]?([A-Z][A-Z0-9_]+)['"]?\s*:/g : /['"]([A-Z][A-Z0-9_]+)['"]/g;
    for (const k of body.matchAll(pattern)) codes.add(k[1] as string);
    for (const spread of body.matchAll(/\.\.\.\s*([A-Za-z_$][\w$]*)/g)) follow(spread[1] as string, seen);
  };
  const follow = (name: string, seen: Set<string>): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = definition(name);
    if (def) collect(def.text, def.start, seen);
    else codes.add(`(unresolved ${name})`);
  };
  for (const text of texts) {
    for (const m of text.matchAll(/export const (\w*CODES)\b[^=]*=\s*/g)) {
      let i = (m.index ?? 0) + m[0].length;
      while (i < text.length && text[i] !== '{' && text[i] !== '[' && text[i] !== ';') i++;
      if (text[i] === ';') {
        // `export const ALIAS_CODES = ERROR_CODES;`: the registry is another constant's.
        const init = text.slice((m.index ?? 0) + m[0].length, i).trim();
        const alias = /^([A-Za-z_$][\w$]*)(?:\s+as const)?$/.exec(init);
        if (alias) follow(alias[1] as string, new Set([m[1] as string]));
        else codes.add(`(unresolved ${m[1]})`);
        continue;
      }
      collect(text, i, new Set([m[1] as string]));
    }
  }
  return [...codes].sort();
}

function linesOfCode(pkgDir: string): number {
  let n = 0;
  for (const file of walk(join(pkgDir, 'src')).filter((f) => /\.[mc]?[jt]s$/.test(f))) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const t = line.trim();
      if (t !== '' && !t.startsWith('//') && !t.startsWith('*') && !t.startsWith('/*')) n++;
    }
  }
  return n;
}

function lineCoverage(pkgDir: string): number | undefined {
  const text = read(join(pkgDir, 'coverage', 'coverage-summary.json'));
  const pct = text
    ? (JSON.parse(text) as { total?: { lines?: { pct?: unknown } } }).total?.lines?.pct
    : undefined;
  return typeof pct === 'number' ? pct : undefined;
}

/** Whether `pnpm pack` can run on the checkout as it is: every declared `files` folder exists. */
function packBlocker(p: WorkspacePackage): string | undefined {
  for (const f of p.manifest.files ?? []) {
    if (/[!*]/.test(f)) continue;
    if (!existsSync(join(p.absDir, f))) return `not built (${f}/ missing; release:diff --build builds)`;
  }
  return undefined;
}

/**
 * Repository-level inputs of every `pnpm pack`: the root pnpmfile (release tooling packs with its
 * own hooks instead, tarball.ts, so a change here is invisible in the packed bytes it compares but
 * not in a publish), `.npmrc`, and the pnpm settings of pnpm-workspace.yaml and the root
 * package.json (`pnpm` field). The workspace's package list is not a pack input (it decides which
 * folder is which package; workspace.ts). Path → SHA-256 of the content (settings: of their JSON).
 */
export function packInputs(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of ['.pnpmfile.cjs', '.pnpmfile.mjs', 'pnpmfile.cjs', '.npmrc']) {
    const path = join(root, file);
    if (existsSync(path)) out.set(file, hash(readFileSync(path)));
  }
  const ws = read(join(root, 'pnpm-workspace.yaml'));
  // A pnpmfile named by a setting (`pnpmfile` in pnpm-workspace.yaml or .npmrc) is a pack input too.
  const named = new Set<string>();
  try {
    const setting = ((ws ? parseYaml(ws) : undefined) as { pnpmfile?: unknown } | null)?.pnpmfile;
    for (const f of [setting].flat()) if (typeof f === 'string') named.add(f);
  } catch {}
  for (const m of (read(join(root, '.npmrc')) ?? '').matchAll(/^\s*pnpmfile\s*=\s*(.+?)\s*$/gm))
    named.add(m[1] as string);
  for (const file of named) {
    const path = join(root, file);
    if (existsSync(path)) out.set(file, hash(readFileSync(path)));
  }
  if (ws !== undefined) {
    let settings: string;
    try {
      const { packages: _packages, ...rest } = (parseYaml(ws) ?? {}) as Record<string, unknown>;
      settings = JSON.stringify(rest);
    } catch {
      settings = ws; // unparseable: the whole file counts
    }
    if (settings !== '{}') out.set('pnpm-workspace.yaml (settings)', hash(settings));
  }
  const rootManifest = read(join(root, 'package.json'));
  if (rootManifest !== undefined) {
    try {
      const pnpm = (JSON.parse(rootManifest) as { pnpm?: unknown }).pnpm;
      if (pnpm !== undefined) out.set('package.json (pnpm)', hash(JSON.stringify(pnpm)));
    } catch {
      out.set('package.json', hash(rootManifest));
    }
  }
  return out;
}

/**
 * Files of the package folder (package-relative, `/`-separated) as git sees them: tracked plus
 * untracked-not-ignored (a WORKTREE's new files), never build output or node_modules. Outside a git
 * repository: every file but node_modules/ and .git/.
 */
function packageFiles(root: string, p: WorkspacePackage): string[] {
  try {
    const listed = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', p.dir],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 256 << 20,
      },
    )
      .toString('utf8')
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(root, f)))
      .map((f) => f.slice(p.dir.length + 1));
    return [...new Set(listed)].sort();
  } catch {
    const out: string[] = [];
    const visit = (dir: string, rel: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name === '.git') continue;
        if (e.isDirectory()) visit(join(dir, e.name), `${rel}${e.name}/`);
        else out.push(`${rel}${e.name}`);
      }
    };
    visit(p.absDir, '');
    return out.sort();
  }
}

/**
 * Whether npm/pnpm would pack `file` (package-relative), by npm-packlist's rules over the source
 * tree, plus the build inputs that produce what is packed. Over-inclusive on purpose (negated
 * `files` entries are ignored): a file counted that does not ship only costs a changeset.
 */
export function shipsOrBuilds(
  manifest: WorkspacePackage['manifest'] & { main?: string; bin?: unknown },
  file: string,
): boolean {
  const always =
    file === 'package.json' ||
    /^(readme|license|licence|copying)(\.[^/]*)?$/i.test(file) ||
    file === '.npmignore' ||
    /^tsconfig[^/]*\.json$/.test(file) ||
    file.startsWith('src/');
  if (always) return true;
  const targets = [
    manifest.main,
    ...(typeof manifest.bin === 'string'
      ? [manifest.bin]
      : Object.values((manifest.bin ?? {}) as Record<string, string>)),
  ]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => t.replace(/^\.\//, ''));
  if (targets.includes(file)) return true;
  if (!Array.isArray(manifest.files)) return true; // no `files`: the whole folder ships
  return manifest.files.some((raw) => {
    if (typeof raw !== 'string' || raw.startsWith('!')) return false;
    const entry = raw.replace(/^\.\//, '').replace(/\/+$/, '');
    if (entry === '' || entry === '.') return true;
    if (file === entry || file.startsWith(`${entry}/`)) return true;
    return /[*?[{]/.test(entry) && (matchesGlob(file, entry) || matchesGlob(file, `${entry}/**`));
  });
}

export function collectEvidence(root: string, options: { pack?: boolean; only?: string } = {}): RepoEvidence {
  const workspace = workspacePackages(root);
  const published = workspace.filter((p) => p.published && (!options.only || p.name === options.only));
  const changesetProblems: string[] = [];
  const changesets = plannedChangesets(root, workspace, changesetProblems);
  const policyText = read(join(root, 'TCB_POLICY.md'));
  const policy = policyText ? parsePolicy(policyText) : undefined;
  let tcb: Map<string, PackageReport> = new Map();
  if (policy) {
    const report = buildReport(runCheck(root));
    tcb = new Map(report.packages.map((p) => [p.name, p]));
  }
  const inputs = packInputs(root);
  const inputsLine = [...inputs].map(([f, h]) => `(repository) ${f}\0${h}`);
  // API reports regenerated from this checkout's declarations (one compiler program for all).
  const owners = workspace.map((p) => ({ dir: realDir(p.absDir), name: p.name }));
  let program: ReturnType<typeof declarationProgram> | undefined;
  try {
    program = declarationProgram(published.map((p) => p.absDir));
  } catch {
    program = undefined;
  }
  const packages = new Map<string, PackageEvidence>();
  for (const p of published) {
    const bumps = new Map<string, Bump>();
    for (const [file, perPackage] of changesets) {
      const b = perPackage.get(p.name);
      if (b) bumps.set(file, b);
    }
    const key = p.name.replace(/^@[^/]+\//, '');
    const report = tcb.get(p.name);
    let tcbReport: PackageEvidence['tcbReport'];
    if (report) {
      const { coverage: _coverage, ...rest } = report;
      tcbReport = rest;
    }
    const blocker = options.pack === false ? 'not packed (--no-pack)' : packBlocker(p);
    let tarball: PackageEvidence['tarball'];
    if (blocker) tarball = { skipped: blocker };
    else {
      try {
        const t = pack(p.absDir);
        tarball = { sha256: t.sha256, filename: t.filename, files: t.files };
      } catch (error) {
        tarball = { skipped: `pnpm pack failed: ${(error as Error).message.split('\n')[0]}` };
      }
    }
    const committedApi = read(join(p.absDir, API_REPORT));
    const committedSbom = read(join(p.absDir, SBOM));
    let generatedApi: string | undefined;
    try {
      if (program) generatedApi = formatApiReport(buildApiReport(p.absDir, owners, program));
    } catch {
      generatedApi = undefined; // declarations not there (an unbuilt ref): the committed report stands in
    }
    let generatedSbom: string | undefined;
    try {
      generatedSbom = `${JSON.stringify(buildSbom(root, p, workspace), null, 2)}\n`;
    } catch {
      generatedSbom = undefined;
    }
    // Stale = a committed file that says something else than the ref. An absent one is not (the
    // diff uses the generated text either way; api:check requires the files in this repository).
    const differs = (committed: string | undefined, generated: string | undefined): boolean =>
      committed !== undefined && generated !== undefined && committed !== generated;
    const stale = [
      ...(differs(committedApi, generatedApi) ? [API_REPORT] : []),
      ...(differs(committedSbom, generatedSbom) ? [SBOM] : []),
    ];
    const files = packageFiles(root, p).filter((f) => shipsOrBuilds(p.manifest, f));
    packages.set(p.name, {
      name: p.name,
      dir: p.dir,
      version: p.version,
      tcb: p.tcb,
      apiReport: generatedApi ?? committedApi,
      apiSource: generatedApi !== undefined ? 'generated' : 'committed',
      sbom: generatedSbom ?? committedSbom,
      sbomSource: generatedSbom !== undefined ? 'generated' : 'committed',
      stale,
      changesets: bumps,
      policy: policy?.packages[key],
      tcbReport,
      reasonCodes: reasonCodesOf(p.absDir),
      linesOfCode: report?.linesOfCode ?? linesOfCode(p.absDir),
      coverage: lineCoverage(p.absDir),
      tarball,
      sourceDigest: hash(
        [...files.map((f) => `${f}\0${hash(readFileSync(join(p.absDir, f)))}`), ...inputsLine].join('\n'),
      ),
    });
  }
  const spec = new Map<string, SpecPage>();
  const specDir = join(root, 'docs', 'spec');
  for (const file of walk(specDir).filter((f) => f.endsWith('.md') || f.endsWith('.json'))) {
    const text = readFileSync(file, 'utf8');
    const formats = [...new Set(text.match(/\bhelm\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\.v\d+\b/g) ?? [])].sort();
    spec.set(
      file
        .slice(root.length + 1)
        .split('\\')
        .join('/'),
      { sha256: hash(text), formats },
    );
  }
  return { packages, spec, policyPresent: policyText !== undefined, packInputs: inputs, changesetProblems };
}

const realDir = (dir: string): string => {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
};

/**
 * Runs the `test` script of each named package in `root` (a built checkout) and returns the
 * evidence with the coverage summaries those runs wrote. A stale summary is removed first, so a
 * test script that writes none reports "not measured" rather than an old number. Tests run with
 * CI=true and a 30-minute cap per package; a failing run still reports the summary it wrote (a
 * coverage threshold miss fails the script after writing it) and its exit code.
 */
export function measureCoverage(root: string, evidence: RepoEvidence, names: Iterable<string>): RepoEvidence {
  const packages = new Map(evidence.packages);
  for (const name of names) {
    const p = packages.get(name);
    if (!p) continue;
    const absDir = join(root, p.dir);
    rmSync(join(absDir, 'coverage', 'coverage-summary.json'), { force: true });
    let testExitCode = 0;
    try {
      execFileSync('pnpm', ['--filter', name, 'run', 'test'], {
        cwd: root,
        stdio: 'pipe',
        env: { ...process.env, CI: 'true' },
        timeout: 30 * 60_000,
        maxBuffer: 256 << 20,
      });
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      testExitCode = typeof status === 'number' ? status : 1;
    }
    packages.set(name, { ...p, coverage: lineCoverage(absDir), testExitCode });
  }
  return { ...evidence, packages };
}

/** The largest bump among pending changesets. */
export const maxBump = (bumps: Iterable<Bump>): Bump =>
  [...bumps].reduce<Bump>((a, b) => (bumpRank(b) > bumpRank(a) ? b : a), 'none');
