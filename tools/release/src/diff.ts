// release:diff — what changed in each published package between two states of the repository, the
// way a security reviewer upgrading one package wants it: version and bump, API, dependencies (with
// integrity), TCB policy entry, reason codes, spec pages/format versions, tarball contents, LOC and
// coverage. Findings that fail the diff (exit 1):
// - `tcb-unversioned`: a TCB package changed (sources, manifest, tarball files, API or policy entry)
//   and neither its version moved nor a new changeset names it;
// - `tcb-unreviewed-dependency`: a TCB package depends on an external package its TCB_POLICY.md
//   entry does not allowlist at the resolved version (or there is no policy to allowlist it), or
//   gained a new transitive package without its policy entry changing the `external` entry of the
//   direct dependency that pulls it in;
// - `tcb-demoted`: a package TCB at <ref-a> is not at <ref-b> (it is still held to the TCB rules
//   in this diff: a package is TCB when it is TCB at either ref);
// - `tcb-policy-missing`: TCB packages and no TCB_POLICY.md at <ref-b>;
// - `stale-evidence`: a committed etc/api-report.md or etc/sbom.cdx.json at <ref-b> differs from
//   what <ref-b> generates (the diff itself uses the generated ones);
// - `api-bump-too-small`: the API report changed more than the bump allows (api-report.ts);
// - `tests-failed`: with `--coverage`, the package's tests fail at the second ref.
import { type ApiChange, type Bump, bumpRank, diffApiReports, requiredBump } from './api-report.js';
import { maxBump, type PackageEvidence, type RepoEvidence } from './evidence.js';
import { sbomExternals } from './sbom.js';

export type FindingCode =
  | 'tcb-unversioned'
  | 'tcb-unreviewed-dependency'
  | 'tcb-demoted'
  | 'tcb-policy-missing'
  | 'stale-evidence'
  | 'api-bump-too-small'
  | 'tests-failed';

export interface Finding {
  readonly code: FindingCode;
  readonly package: string;
  readonly message: string;
}

export interface DepChange {
  readonly name: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly integrity: string | null;
}

export interface PackageDiff {
  readonly name: string;
  readonly tcb: boolean;
  readonly status: 'added' | 'removed' | 'changed' | 'unchanged';
  readonly version: { readonly from: string | null; readonly to: string | null; readonly bump: Bump };
  /** Changesets present at b and not at a that name this package. */
  readonly newChangesets: readonly { readonly file: string; readonly bump: Bump }[];
  /** Version bump if the version moved, else the largest new changeset's bump. */
  readonly effectiveBump: Bump;
  readonly api: {
    readonly changes: readonly ApiChange[];
    readonly requiredBump: Bump;
    /** Where each side's report came from: regenerated from its declarations, or the committed file. */
    readonly source?: { readonly from: string | null; readonly to: string | null };
  };
  readonly dependencies: {
    readonly added: readonly DepChange[];
    readonly removed: readonly DepChange[];
    readonly changed: readonly DepChange[];
    readonly transitive: { readonly from: number; readonly to: number };
  };
  readonly policy: readonly string[];
  readonly reasonCodes: { readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly tarball: {
    readonly from: string | null;
    readonly to: string | null;
    readonly files: readonly {
      path: string;
      change: 'added' | 'removed' | 'changed';
      from: string | null;
      to: string | null;
    }[];
    readonly note?: string;
  };
  readonly linesOfCode: { readonly from: number; readonly to: number; readonly delta: number };
  readonly coverage: {
    readonly from: number | null;
    readonly to: number | null;
    readonly delta: number | null;
    /** Exit codes of the package's tests, run in each ref by `--coverage` (null: not run there). */
    readonly tests?: { readonly from: number | null; readonly to: number | null };
  };
}

export interface SpecDiff {
  readonly pages: readonly { page: string; change: 'added' | 'removed' | 'changed' }[];
  readonly formats: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

export interface ReleaseDiff {
  readonly from: string;
  readonly to: string;
  readonly packages: readonly PackageDiff[];
  readonly spec: SpecDiff;
  /** Repository pack settings that changed (every published package counts as changed then). */
  readonly packInputs: readonly string[];
  /** Changeset files at <ref-b> that count no bump (as `changeset version` would treat them, or worse). */
  readonly changesetProblems: readonly string[];
  readonly findings: readonly Finding[];
}

/** A semver version split into numbers and prerelease identifiers; undefined when not semver. */
function parseSemver(v: string): { core: [number, number, number]; pre: string[] } | undefined {
  const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return undefined;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** semver precedence: negative when a < b, 0 when equal, positive when a > b. */
function compareSemver(
  a: NonNullable<ReturnType<typeof parseSemver>>,
  b: NonNullable<ReturnType<typeof parseSemver>>,
): number {
  for (let i = 0; i < 3; i++)
    if (a.core[i] !== b.core[i]) return (a.core[i] as number) - (b.core[i] as number);
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const [x, y] = [a.pre[i], b.pre[i]];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The bump a version change is: only a semver *increase* counts (a downgrade, an equal or lower
 * prerelease, or a version that is not semver is no bump — fail closed), sized by the first of
 * major.minor.patch that moved; 1.0.0-rc.1 → 1.0.0 is a patch.
 */
export function versionBump(from: string | null, to: string | null): Bump {
  if (!from || !to || from === to) return 'none';
  const [a, b] = [parseSemver(from), parseSemver(to)];
  if (!a || !b || compareSemver(a, b) >= 0) return 'none';
  if (a.core[0] !== b.core[0]) return 'major';
  if (a.core[1] !== b.core[1]) return 'minor';
  return 'patch';
}

/** Flattens a JSON value into `path = value` lines (sorted), for a line diff of policy entries. */
export function flatten(value: unknown, path = ''): string[] {
  if (Array.isArray(value))
    return value.length === 0 ? [`${path} = []`] : value.flatMap((v) => flatten(v, `${path}[]`));
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${path} = {}`];
    return entries.flatMap(([k, v]) => flatten(v, path ? `${path}.${k}` : k));
  }
  return [`${path} = ${JSON.stringify(value)}`];
}

function setDiff(a: readonly string[], b: readonly string[]): { added: string[]; removed: string[] } {
  const x = new Set(a);
  const y = new Set(b);
  return { added: b.filter((v) => !x.has(v)).sort(), removed: a.filter((v) => !y.has(v)).sort() };
}

function diffDeps(
  a: PackageEvidence | undefined,
  b: PackageEvidence | undefined,
): PackageDiff['dependencies'] {
  const x = sbomExternals(a?.sbom);
  const y = sbomExternals(b?.sbom);
  const byName = (
    m: Map<string, string | null>,
  ): Map<string, { version: string; integrity: string | null }[]> => {
    const out = new Map<string, { version: string; integrity: string | null }[]>();
    for (const [key, integrity] of m) {
      const at = key.lastIndexOf('@');
      const name = key.slice(0, at);
      out.set(name, [...(out.get(name) ?? []), { version: key.slice(at + 1), integrity }]);
    }
    return out;
  };
  const [nx, ny] = [byName(x), byName(y)];
  const added: DepChange[] = [];
  const removed: DepChange[] = [];
  const changed: DepChange[] = [];
  for (const name of [...new Set([...nx.keys(), ...ny.keys()])].sort()) {
    const before = nx.get(name) ?? [];
    const after = ny.get(name) ?? [];
    const from = before.map((v) => v.version).join(', ') || null;
    const to = after.map((v) => v.version).join(', ') || null;
    const integrity = after.map((v) => v.integrity).join(', ') || null;
    if (!from) added.push({ name, from, to, integrity });
    else if (!to)
      removed.push({ name, from, to, integrity: before.map((v) => v.integrity).join(', ') || null });
    else if (from !== to || JSON.stringify(before) !== JSON.stringify(after))
      changed.push({ name, from, to, integrity });
  }
  return { added, removed, changed, transitive: { from: x.size, to: y.size } };
}

function diffTarball(a: PackageEvidence | undefined, b: PackageEvidence | undefined): PackageDiff['tarball'] {
  const ta = a?.tarball;
  const tb = b?.tarball;
  const note = [ta, tb]
    .map((t, i) => (t && 'skipped' in t ? `${i === 0 ? 'from' : 'to'}: ${t.skipped}` : undefined))
    .filter(Boolean)
    .join('; ');
  const filesA = new Map(ta && 'files' in ta ? ta.files.map((f) => [f.path, f.sha256]) : []);
  const filesB = new Map(tb && 'files' in tb ? tb.files.map((f) => [f.path, f.sha256]) : []);
  const files: PackageDiff['tarball']['files'][number][] = [];
  const comparable = (!ta || 'files' in ta) && (!tb || 'files' in tb);
  if (comparable) {
    for (const path of [...new Set([...filesA.keys(), ...filesB.keys()])].sort()) {
      const [from, to] = [filesA.get(path) ?? null, filesB.get(path) ?? null];
      if (from === to) continue;
      files.push({ path, change: !from ? 'added' : !to ? 'removed' : 'changed', from, to });
    }
  }
  return {
    from: ta && 'sha256' in ta ? ta.sha256 : null,
    to: tb && 'sha256' in tb ? tb.sha256 : null,
    files,
    ...(note ? { note } : {}),
  };
}

function formatCoverage(c: PackageDiff['coverage']): string {
  const pct = (v: number | null): string => (v === null ? 'not measured' : `${v}%`);
  const delta = c.delta === null ? '' : ` (${c.delta >= 0 ? '+' : ''}${c.delta})`;
  const exit = (v: number | null | undefined): string =>
    v === null || v === undefined ? 'not run' : v === 0 ? 'pass' : `fail, exit ${v}`;
  const tests = c.tests ? `; tests ${exit(c.tests.from)} → ${exit(c.tests.to)}` : '';
  return `line coverage ${pct(c.from)} → ${pct(c.to)}${delta}${tests}`;
}

type ExternalEntries = Record<string, { version?: string } | undefined>;
const externalsOf = (policy: unknown): ExternalEntries =>
  ((policy as { external?: ExternalEntries } | undefined)?.external ?? {}) as ExternalEntries;

/** The runtime graph of a generated SBOM: `name@version` → what it depends on, and the direct deps. */
function sbomGraph(text: string | undefined): { edges: Map<string, string[]>; direct: string[] } {
  const edges = new Map<string, string[]>();
  if (!text) return { edges, direct: [] };
  const doc = JSON.parse(text) as {
    metadata?: { component?: { 'bom-ref'?: string } };
    components?: { 'bom-ref'?: string; properties?: { name: string }[] }[];
    dependencies?: { ref: string; dependsOn?: string[] }[];
  };
  const key = (purl: string): string => decodeURIComponent(purl.replace(/^pkg:npm\//, ''));
  const workspace = new Set(
    (doc.components ?? [])
      .filter((c) => c.properties?.some((p) => p.name === 'helm:workspace'))
      .map((c) => key(c['bom-ref'] ?? '')),
  );
  for (const d of doc.dependencies ?? []) edges.set(key(d.ref), (d.dependsOn ?? []).map(key));
  // Direct externals: what the package and its workspace dependencies depend on, outside the workspace.
  const self = key(doc.metadata?.component?.['bom-ref'] ?? '');
  const direct = new Set<string>();
  const seen = new Set<string>();
  const visit = (k: string): void => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const dep of edges.get(k) ?? []) {
      if (workspace.has(dep)) visit(dep);
      else direct.add(dep);
    }
  };
  visit(self);
  return { edges, direct: [...direct].sort() };
}

const splitKey = (k: string): { name: string; version: string } => {
  const at = k.lastIndexOf('@');
  return { name: k.slice(0, at), version: k.slice(at + 1) };
};

/** Every package reachable from `start` in `edges` (itself excluded). */
function reachable(edges: Map<string, string[]>, start: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length > 0) {
    const k = stack.pop() as string;
    if (out.has(k)) continue;
    out.add(k);
    stack.push(...(edges.get(k) ?? []));
  }
  return out;
}

interface DirectExternal {
  readonly name: string;
  readonly resolved: string | null;
  readonly declared?: string | null;
  readonly allowlisted: string | null;
}

/**
 * The external dependencies of one side with the version its policy entry allowlists: tcb-check's
 * report for a TCB package, else the generated SBOM's direct externals against the policy entry
 * (no policy, or a package tcb-check does not treat as TCB there).
 */
function directExternals(p: PackageEvidence | undefined): DirectExternal[] {
  if (!p) return [];
  if (p.tcbReport && p.tcb) {
    return p.tcbReport.external.map((e) => ({
      name: e.name,
      resolved: e.resolved,
      declared: e.declared,
      allowlisted: e.allowlisted,
    }));
  }
  const allow = externalsOf(p.policy);
  return sbomGraph(p.sbomSource === 'committed' ? undefined : p.sbom).direct.map((k) => {
    const { name, version } = splitKey(k);
    return { name, resolved: version, allowlisted: allow[name]?.version ?? null };
  });
}

/**
 * The dependency findings of a package held to the TCB rules at <ref-b>. Every external dependency
 * must be allowlisted in its TCB_POLICY.md entry at exactly the version it resolves to (tcb-check's
 * report, else — no policy, or a package tcb-check no longer treats as TCB — the generated SBOM's
 * direct externals against the policy entry). A transitive package new since <ref-a> needs the
 * `external` entry of a direct dependency that pulls it in to have changed in the same diff.
 */
function dependencyFindings(
  name: string,
  pa: PackageEvidence | undefined,
  pb: PackageEvidence,
  policyPresent: boolean,
): Finding[] {
  const out: Finding[] = [];
  const unreviewed = (message: string): void => {
    out.push({ code: 'tcb-unreviewed-dependency', package: name, message });
  };
  const allowB = externalsOf(pb.policy);
  const allowA = externalsOf(pa?.policy);
  const graph = sbomGraph(pb.sbomSource === 'committed' ? undefined : pb.sbom);
  if (!pb.tcbReport && pb.sbomSource === 'committed') {
    unreviewed(
      'no tcb-check report and no lockfile-generated SBOM at this ref: dependencies cannot be reviewed',
    );
  }
  const direct = directExternals(pb);
  // Reported when something about the dependency moved since <ref-a> (new, re-resolved, or its
  // allowlist entry changed): a diff of a ref against itself has nothing to review.
  const before = new Map(directExternals(pa).map((e) => [e.name, `${e.resolved}|${e.allowlisted}`]));
  for (const e of direct) {
    if (before.get(e.name) === `${e.resolved}|${e.allowlisted}`) continue;
    if (e.allowlisted === null) {
      unreviewed(
        `${before.has(e.name) ? 'dependency' : 'new dependency'} ${e.name}@${e.resolved ?? e.declared ?? '?'} is not allowlisted in TCB_POLICY.md${policyPresent ? '' : ' (there is no TCB_POLICY.md)'}`,
      );
    } else if (e.resolved !== null && e.resolved !== e.allowlisted) {
      unreviewed(`dependency ${e.name} resolves to ${e.resolved}, TCB_POLICY.md allowlists ${e.allowlisted}`);
    }
  }
  if (!policyPresent) {
    const transitive = [...new Set(graph.direct.flatMap((d) => [...reachable(graph.edges, d)]))]
      .filter((k) => !graph.direct.includes(k))
      .sort();
    if (transitive.length > 0)
      unreviewed(`transitive package(s) ${transitive.join(', ')} with no TCB_POLICY.md`);
    return out;
  }
  if (!pa) return out;
  const old = new Set(pa.tcbReport?.transitiveExternal ?? []);
  const after = pb.tcbReport?.transitiveExternal ?? [];
  const directKeys = new Set(direct.map((e) => `${e.name}@${e.resolved}`));
  const fresh = after.filter((t) => !old.has(t) && !directKeys.has(t));
  const unexplained = fresh.filter((t) => {
    // Waived only by a changed `external` entry of a direct dependency whose subtree holds `t`.
    const parents = graph.direct.filter((d) => reachable(graph.edges, d).has(t));
    return !parents.some((d) => {
      const n = splitKey(d).name;
      return allowB[n] !== undefined && JSON.stringify(allowA[n]) !== JSON.stringify(allowB[n]);
    });
  });
  if (unexplained.length > 0) {
    unreviewed(`new transitive package(s) ${unexplained.join(', ')} without a TCB_POLICY.md external change`);
  }
  return out;
}

export function diffEvidence(from: string, to: string, a: RepoEvidence, b: RepoEvidence): ReleaseDiff {
  const findings: Finding[] = [];
  const packages: PackageDiff[] = [];
  const packInputs = [...new Set([...(a.packInputs?.keys() ?? []), ...(b.packInputs?.keys() ?? [])])]
    .filter((k) => a.packInputs?.get(k) !== b.packInputs?.get(k))
    .sort();
  for (const name of [...new Set([...a.packages.keys(), ...b.packages.keys()])].sort()) {
    const pa = a.packages.get(name);
    const pb = b.packages.get(name);
    const version = {
      from: pa?.version ?? null,
      to: pb?.version ?? null,
      bump: versionBump(pa?.version ?? null, pb?.version ?? null),
    };
    const newChangesets = [...(pb?.changesets ?? new Map<string, Bump>())]
      .filter(([file]) => !pa?.changesets.has(file))
      .map(([file, bump]) => ({ file, bump }));
    const effectiveBump = version.bump !== 'none' ? version.bump : maxBump(newChangesets.map((c) => c.bump));
    const apiChanges = diffApiReports(pa?.apiReport, pb?.apiReport);
    // No report at `from` (a new package, or a ref before reports existed): nothing to compare against.
    const needed = pa?.apiReport !== undefined ? requiredBump(apiChanges, pa.version) : 'none';
    const policy = (() => {
      const d = setDiff(flatten(pa?.policy ?? {}), flatten(pb?.policy ?? {}));
      return [...d.removed.map((l) => `- ${l}`), ...d.added.map((l) => `+ ${l}`)];
    })();
    const dependencies = diffDeps(pa, pb);
    const tarball = diffTarball(pa, pb);
    const locFrom = pa?.linesOfCode ?? 0;
    const locTo = pb?.linesOfCode ?? 0;
    const covFrom = pa?.coverage ?? null;
    const covTo = pb?.coverage ?? null;
    const changed =
      pa?.sourceDigest !== pb?.sourceDigest ||
      pa?.apiReport !== pb?.apiReport ||
      policy.length > 0 ||
      pa?.sbom !== pb?.sbom ||
      tarball.files.length > 0;
    // TCB at either ref: a package cannot leave the TCB rules in the change that edits it.
    const tcb = pa?.tcb === true || pb?.tcb === true;
    const diff: PackageDiff = {
      name,
      tcb,
      status: !pa ? 'added' : !pb ? 'removed' : changed ? 'changed' : 'unchanged',
      version,
      newChangesets,
      effectiveBump,
      api: {
        changes: apiChanges,
        requiredBump: needed,
        // Said only when a side could not be regenerated (unbuilt): the reviewer should know.
        ...(pa?.apiSource === 'committed' || pb?.apiSource === 'committed'
          ? { source: { from: pa?.apiSource ?? null, to: pb?.apiSource ?? null } }
          : {}),
      },
      dependencies,
      policy,
      reasonCodes: setDiff(pa?.reasonCodes ?? [], pb?.reasonCodes ?? []),
      tarball,
      linesOfCode: { from: locFrom, to: locTo, delta: locTo - locFrom },
      coverage: {
        from: covFrom,
        to: covTo,
        delta: covFrom !== null && covTo !== null ? Math.round((covTo - covFrom) * 100) / 100 : null,
        ...(pa?.testExitCode !== undefined || pb?.testExitCode !== undefined
          ? { tests: { from: pa?.testExitCode ?? null, to: pb?.testExitCode ?? null } }
          : {}),
      },
    };
    packages.push(diff);

    // What a consumer gets or what was reviewed changed (not merely evidence added, e.g. a first
    // API report or an SBOM regenerated from a new lockfile).
    const shipped =
      pa?.sourceDigest !== pb?.sourceDigest ||
      policy.length > 0 ||
      tarball.files.length > 0 ||
      (pa?.apiReport !== undefined && apiChanges.length > 0);
    if (pa && pb && diff.tcb && shipped && effectiveBump === 'none') {
      findings.push({
        code: 'tcb-unversioned',
        package: name,
        message: `TCB package ${name} changed without a version bump or a new changeset (pnpm changeset)`,
      });
    }
    if (pa && pb && bumpRank(effectiveBump) < bumpRank(needed)) {
      findings.push({
        code: 'api-bump-too-small',
        package: name,
        message: `API report: ${apiChanges.length} change(s) need a ${needed} bump at ${pa.version}, got ${effectiveBump}`,
      });
    }
    if (pb?.testExitCode !== undefined && pb.testExitCode !== 0) {
      findings.push({
        code: 'tests-failed',
        package: name,
        message: `the tests of ${name} fail at ${to} (pnpm --filter ${name} test exited ${pb.testExitCode})`,
      });
    }
    if (pa?.tcb && pb && !pb.tcb) {
      findings.push({
        code: 'tcb-demoted',
        package: name,
        message: `${name} is TCB at ${from} and not at ${to} (helm.tcb): the TCB boundary moved; it is held to the TCB rules here`,
      });
    }
    if (pb?.stale && pb.stale.length > 0) {
      findings.push({
        code: 'stale-evidence',
        package: name,
        message: `committed ${pb.stale.join(', ')} at ${to} differ(s) from what ${to} generates (pnpm api:update); this diff uses the generated ones`,
      });
    }
    if (pb && tcb) findings.push(...dependencyFindings(name, pa, pb, b.policyPresent !== false));
  }
  if (b.policyPresent === false && packages.some((p) => p.tcb && p.status !== 'removed')) {
    findings.push({
      code: 'tcb-policy-missing',
      package: '(repository)',
      message: `no TCB_POLICY.md at ${to} while TCB packages exist: nothing about them is allowlisted`,
    });
  }
  const pages: SpecDiff['pages'][number][] = [];
  for (const page of [...new Set([...a.spec.keys(), ...b.spec.keys()])].sort()) {
    const [x, y] = [a.spec.get(page), b.spec.get(page)];
    if (x?.sha256 === y?.sha256) continue;
    pages.push({ page, change: !x ? 'added' : !y ? 'removed' : 'changed' });
  }
  const formats = setDiff(
    [...new Set([...a.spec.values()].flatMap((p) => p.formats))],
    [...new Set([...b.spec.values()].flatMap((p) => p.formats))],
  );
  return {
    from,
    to,
    packages,
    spec: { pages, formats },
    packInputs,
    changesetProblems: b.changesetProblems ?? [],
    findings,
  };
}

const short = (h: string | null): string => (h ? h.slice(0, 16) : '-');

export function formatDiff(diff: ReleaseDiff, options: { all?: boolean } = {}): string {
  const out: string[] = [`release:diff ${diff.from} → ${diff.to}`];
  if (diff.packInputs?.length) {
    out.push(
      `repository pack settings changed (${diff.packInputs.join(', ')}): every published package counts as changed; release tooling packs with its own hooks, a publish would run these`,
    );
  }
  for (const p of diff.changesetProblems ?? []) out.push(`changeset counts no bump: ${p}`);
  const shown = diff.packages.filter((p) => options.all || p.status !== 'unchanged');
  const unchanged = diff.packages.length - shown.length;
  for (const p of shown) {
    out.push('');
    out.push(
      `${p.name}${p.tcb ? ' [TCB]' : ''} — ${p.status}; version ${p.version.from ?? '-'} → ${p.version.to ?? '-'} (${p.version.bump}); bump ${p.effectiveBump}${p.newChangesets.length ? ` from changesets ${p.newChangesets.map((c) => `${c.file} (${c.bump})`).join(', ')}` : ''}`,
    );
    if (p.api.source?.from === 'committed' || p.api.source?.to === 'committed') {
      out.push(
        `  API compared from committed etc/api-report.md (${p.api.source.from ?? '-'} → ${p.api.source.to ?? '-'}): declarations not built; --build regenerates them`,
      );
    }
    if (p.api.changes.length > 0) {
      out.push(`  API (needs ≥ ${p.api.requiredBump}):`);
      for (const c of p.api.changes) out.push(`    ${c.kind.padEnd(7)} ${c.entry} ${c.name}`);
    }
    const d = p.dependencies;
    if (d.added.length + d.removed.length + d.changed.length > 0 || d.transitive.from !== d.transitive.to) {
      out.push(`  dependencies (transitive ${d.transitive.from} → ${d.transitive.to}):`);
      for (const x of d.added) out.push(`    + ${x.name}@${x.to} ${x.integrity ?? ''}`.trimEnd());
      for (const x of d.removed) out.push(`    - ${x.name}@${x.from}`);
      for (const x of d.changed)
        out.push(`    ~ ${x.name} ${x.from} → ${x.to} ${x.integrity ?? ''}`.trimEnd());
    }
    if (p.policy.length > 0) {
      out.push('  TCB_POLICY.md entry:');
      for (const l of p.policy) out.push(`    ${l}`);
    }
    if (p.reasonCodes.added.length + p.reasonCodes.removed.length > 0) {
      out.push(
        `  reason codes: ${[...p.reasonCodes.added.map((c) => `+${c}`), ...p.reasonCodes.removed.map((c) => `-${c}`)].join(' ')}`,
      );
    }
    const t = p.tarball;
    if (t.from !== t.to || t.files.length > 0 || t.note) {
      out.push(`  tarball ${short(t.from)} → ${short(t.to)}${t.note ? ` (${t.note})` : ''}`);
      for (const f of t.files)
        out.push(`    ${f.change.padEnd(7)} ${f.path} ${short(f.from)} → ${short(f.to)}`);
    }
    out.push(
      `  LOC ${p.linesOfCode.from} → ${p.linesOfCode.to} (${p.linesOfCode.delta >= 0 ? '+' : ''}${p.linesOfCode.delta}); ${formatCoverage(p.coverage)}`,
    );
  }
  if (unchanged > 0) out.push('', `${unchanged} package(s) unchanged`);
  if (diff.spec.pages.length > 0 || diff.spec.formats.added.length + diff.spec.formats.removed.length > 0) {
    out.push('', 'docs/spec:');
    for (const p of diff.spec.pages) out.push(`  ${p.change.padEnd(7)} ${p.page}`);
    if (diff.spec.formats.added.length) out.push(`  formats added: ${diff.spec.formats.added.join(', ')}`);
    if (diff.spec.formats.removed.length)
      out.push(`  formats removed: ${diff.spec.formats.removed.join(', ')}`);
  }
  out.push('');
  if (diff.findings.length === 0) out.push('release:diff: no findings');
  else {
    for (const f of diff.findings) out.push(`FAIL [${f.code}] ${f.package}: ${f.message}`);
    out.push(`release:diff: ${diff.findings.length} finding(s)`);
  }
  return out.join('\n');
}
