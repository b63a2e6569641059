// diffEvidence / formatDiff on hand-made evidence: the dependency, spec and finding branches the
// fixture repository does not reach.
import { describe, expect, it } from 'vitest';
import { diffEvidence, formatDiff } from '../src/diff.ts';
import type { PackageEvidence, RepoEvidence } from '../src/evidence.ts';

const sbom = (components: [string, string, string | null][]): string =>
  JSON.stringify({
    components: [
      { name: '@helm/dep', version: '0.1.0', properties: [{ name: 'helm:workspace', value: 'true' }] },
      ...components.map(([name, version, integrity]) => ({
        name,
        version,
        properties: integrity === null ? [] : [{ name: 'helm:integrity', value: integrity }],
      })),
    ],
  });

function pkg(overrides: Partial<PackageEvidence>): PackageEvidence {
  return {
    name: '@helm/x',
    dir: 'packages/x',
    version: '1.0.0',
    tcb: true,
    apiReport: undefined,
    sbom: undefined,
    changesets: new Map(),
    policy: undefined,
    tcbReport: undefined,
    reasonCodes: [],
    linesOfCode: 10,
    coverage: undefined,
    tarball: { skipped: 'not packed (--no-pack)' },
    sourceDigest: 'same',
    ...overrides,
  };
}
const repo = (p: PackageEvidence, spec: [string, string, string[]][]): RepoEvidence => ({
  packages: new Map([[p.name, p]]),
  spec: new Map(spec.map(([page, sha256, formats]) => [page, { sha256, formats }])),
});
const report = (
  external: { name: string; allowlisted: string | null; resolved: string | null; declared: string | null }[],
) => ({ external, transitiveExternal: [] }) as unknown as PackageEvidence['tcbReport'];

describe('diffEvidence', () => {
  const a = pkg({
    sbom: sbom([
      ['kept', '1.0.0', 'sha512-k'],
      ['moved', '1.0.0', 'sha512-m1'],
      ['gone', '2.0.0', 'sha512-g'],
    ]),
    tcbReport: report([]),
  });
  const b = pkg({
    version: '1.1.0',
    sbom: sbom([
      ['kept', '1.0.0', 'sha512-k'],
      ['moved', '1.1.0', null],
    ]),
    sourceDigest: 'changed',
    tcbReport: report([{ name: 'newdep', allowlisted: null, resolved: null, declared: '^1.0.0' }]),
  });
  const diff = diffEvidence(
    'a',
    'b',
    repo(a, [
      ['docs/spec/old.md', '1', ['helm.old.v1']],
      ['docs/spec/same.md', '2', []],
    ]),
    repo(b, [
      ['docs/spec/same.md', '2', []],
      ['docs/spec/new.md', '3', ['helm.new.v1']],
    ]),
  );

  it('reports removed and changed dependencies, with the new integrity (none when unknown)', () => {
    const p = diff.packages[0];
    expect(p?.version).toEqual({ from: '1.0.0', to: '1.1.0', bump: 'minor' });
    expect(p?.effectiveBump).toBe('minor');
    expect(p?.dependencies).toEqual({
      added: [],
      removed: [{ name: 'gone', from: '2.0.0', to: null, integrity: 'sha512-g' }],
      changed: [{ name: 'moved', from: '1.0.0', to: '1.1.0', integrity: null }],
      transitive: { from: 3, to: 2 },
    });
  });

  it('flags a new TCB dependency that is not allowlisted even when the version moved', () => {
    expect(diff.findings).toEqual([
      {
        code: 'tcb-unreviewed-dependency',
        package: '@helm/x',
        message: 'new dependency newdep@^1.0.0 is not allowlisted in TCB_POLICY.md',
      },
    ]);
  });

  it('reports spec pages added and removed with their format versions', () => {
    expect(diff.spec).toEqual({
      pages: [
        { page: 'docs/spec/new.md', change: 'added' },
        { page: 'docs/spec/old.md', change: 'removed' },
      ],
      formats: { added: ['helm.new.v1'], removed: ['helm.old.v1'] },
    });
  });

  it('prints them', () => {
    const text = formatDiff(diff).split('\n');
    for (const line of [
      '@helm/x [TCB] — changed; version 1.0.0 → 1.1.0 (minor); bump minor',
      '  dependencies (transitive 3 → 2):',
      '    - gone@2.0.0',
      '    ~ moved 1.0.0 → 1.1.0',
      '  tarball - → - (from: not packed (--no-pack); to: not packed (--no-pack))',
      '  removed docs/spec/old.md',
      '  added   docs/spec/new.md',
      '  formats removed: helm.old.v1',
      'release:diff: 1 finding(s)',
    ]) {
      expect(text).toContain(line);
    }
  });
});

describe('evidence added without a package change', () => {
  it('a first API report or a regenerated SBOM is reported but needs no bump', () => {
    const before = pkg({});
    const after = pkg({
      apiReport: '# API report: @helm/x\n\n## .\n\n### a\n\n```ts\nexport declare const a: 1;\n```\n',
      sbom: sbom([['dep', '1.0.0', 'sha512-d']]),
    });
    const diff = diffEvidence('a', 'b', repo(before, []), repo(after, []));
    expect(diff.packages[0]?.status).toBe('changed');
    expect(diff.packages[0]?.api).toEqual({
      changes: [{ kind: 'added', entry: '.', name: 'a' }],
      requiredBump: 'none',
    });
    expect(diff.findings).toEqual([]);
    // …while the same sources with a changed policy entry are a TCB change
    const policyChange = diffEvidence(
      'a',
      'b',
      repo(before, []),
      repo(pkg({ policy: { builtins: { fs: 'x' } } }), []),
    );
    expect(policyChange.findings.map((f) => f.code)).toEqual(['tcb-unversioned']);
  });
});
