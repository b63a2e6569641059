// Everything release:diff compares, gathered from one checkout of the repository: per published
// package its version, committed API report and SBOM, pending changesets, TCB policy entry and
// tcb-check report (reused from tools/tcb-check), reason codes, LOC, coverage and packed tarball;
// and, repository-wide, the docs/spec pages with the format versions they name.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCheck } from '@helm/tcb-check/dist/check.js';
import { parsePolicy } from '@helm/tcb-check/dist/policy.js';
import { buildReport, type PackageReport } from '@helm/tcb-check/dist/report.js';
import { type Bump, bumpRank } from './api-report.js';
import { pack, type TarballFile } from './tarball.js';
import { API_REPORT, publishedOf, SBOM, type WorkspacePackage } from './workspace.js';

export interface PackageEvidence {
  readonly name: string;
  readonly dir: string;
  readonly version: string;
  readonly tcb: boolean;
  readonly apiReport: string | undefined;
  readonly sbom: string | undefined;
  /** Pending changeset files (name → the bump it asks for this package). */
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
  /** SHA-256 of every file under the package folder's src/ (to see whether it changed at all). */
  readonly sourceDigest: string;
}

export interface SpecPage {
  readonly sha256: string;
  readonly formats: readonly string[];
}

export interface RepoEvidence {
  readonly packages: ReadonlyMap<string, PackageEvidence>;
  readonly spec: ReadonlyMap<string, SpecPage>;
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

/** `.changeset/*.md` frontmatter: `"@helm/x": minor` lines → file → package → bump. */
export function readChangesets(root: string): Map<string, Map<string, Bump>> {
  const out = new Map<string, Map<string, Bump>>();
  const dir = join(root, '.changeset');
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1] ?? '';
    const bumps = new Map<string, Bump>();
    for (const m of front.matchAll(/^\s*["']?([^"':\s]+)["']?\s*:\s*(major|minor|patch)\s*$/gm)) {
      bumps.set(m[1] as string, m[2] as Bump);
    }
    out.set(file, bumps);
  }
  return out;
}

/**
 * Reason codes a package defines: the keys and upper-case string elements of every exported
 * `…CODES` constant in its sources (`export const REASON_CODES = { GATE_FROZEN: … }`,
 * `export const CHECK_CODES = ['…']`) — the registries the project keeps closed.
 */
export function reasonCodesOf(pkgDir: string): string[] {
  const codes = new Set<string>();
  for (const file of walk(join(pkgDir, 'src')).filter((f) => /\.[mc]?[jt]s$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/export const \w*CODES\b[^=]*=\s*/g)) {
      let i = (m.index ?? 0) + m[0].length;
      while (i < text.length && text[i] !== '{' && text[i] !== '[' && text[i] !== ';') i++;
      if (text[i] === ';') continue;
      let depth = 0;
      const start = i;
      for (; i < text.length; i++) {
        if (text[i] === '{' || text[i] === '[') depth++;
        else if (text[i] === '}' || text[i] === ']') {
          depth--;
          if (depth === 0) break;
        }
      }
      // Top level of the literal only: `{ GATE_FROZEN: { verdict: 'DENY' } }` registers GATE_FROZEN,
      // not the verdict it carries.
      let body = text.slice(start + 1, i);
      while (/[{[][^{}[\]]*[}\]]/.test(body)) body = body.replace(/[{[][^{}[\]]*[}\]]/g, '');
      const pattern =
        text[start] === '{' ? /(?:^|[,{\s])['"]?([A-Z][A-Z0-9_]+)['"]?\s*:/g : /['"]([A-Z][A-Z0-9_]+)['"]/g;
      for (const k of body.matchAll(pattern)) codes.add(k[1] as string);
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

export function collectEvidence(root: string, options: { pack?: boolean; only?: string } = {}): RepoEvidence {
  const published = publishedOf(root).filter((p) => !options.only || p.name === options.only);
  const changesets = readChangesets(root);
  const policyText = read(join(root, 'TCB_POLICY.md'));
  const policy = policyText ? parsePolicy(policyText) : undefined;
  let tcb: Map<string, PackageReport> = new Map();
  if (policy) {
    const report = buildReport(runCheck(root));
    tcb = new Map(report.packages.map((p) => [p.name, p]));
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
    const sources = walk(join(p.absDir, 'src'));
    packages.set(p.name, {
      name: p.name,
      dir: p.dir,
      version: p.version,
      tcb: p.tcb,
      apiReport: read(join(p.absDir, API_REPORT)),
      sbom: read(join(p.absDir, SBOM)),
      changesets: bumps,
      policy: policy?.packages[key],
      tcbReport,
      reasonCodes: reasonCodesOf(p.absDir),
      linesOfCode: report?.linesOfCode ?? linesOfCode(p.absDir),
      coverage: lineCoverage(p.absDir),
      tarball,
      sourceDigest: hash(
        [join(p.absDir, 'package.json'), ...sources]
          .map((f) => `${f.slice(p.absDir.length)}\0${hash(readFileSync(f))}`)
          .join('\n'),
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
  return { packages, spec };
}

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
  return { packages, spec: evidence.spec };
}

/** The largest bump among pending changesets. */
export const maxBump = (bumps: Iterable<Bump>): Bump =>
  [...bumps].reduce<Bump>((a, b) => (bumpRank(b) > bumpRank(a) ? b : a), 'none');
