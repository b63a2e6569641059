// Edge cases of the release tools' readers, each failing closed or reporting what is there.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApiReport, formatApiReport, typedEntries } from '../src/api-report.ts';
import { readChangesets, reasonCodesOf } from '../src/evidence.ts';
import { resolveTree } from '../src/sbom.ts';
import { readTarball } from '../src/tarball.ts';
import { workspacePackages } from '../src/workspace.ts';

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'helm-release-edges-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One ustar header (+ body) the way npm/pnpm write them. */
function entry(name: string, body: string, type = '0', prefix = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write(`${Buffer.byteLength(body).toString(8).padStart(11, '0')}\0`, 124);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write(prefix, 345, 155);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([h, data]);
}

describe('readTarball', () => {
  it('reads files, long paths split into the prefix, and folders', () => {
    const long = 'd'.repeat(100);
    const gz = gzipSync(
      Buffer.concat([
        entry('package/src', '', '5'),
        entry('package/src/a.js', 'a'),
        entry(long, 'b', '0', 'package/deep'),
        Buffer.alloc(1024),
      ]),
    );
    const files = readTarball(gz);
    expect(files.map((f) => [f.path, f.size, f.mode])).toEqual([
      [`deep/${long}`, 1, 0o644],
      ['src/a.js', 1, 0o644],
    ]);
  });

  it('refuses entry types it does not model (pax headers, links) instead of skipping them', () => {
    const pax = gzipSync(
      Buffer.concat([entry('PaxHeader', '30 path=package/x/y/z.js\n', 'x'), Buffer.alloc(1024)]),
    );
    expect(() => readTarball(pax)).toThrow(/unsupported tar entry type "x"/);
    const link = gzipSync(Buffer.concat([entry('package/l', '', '2'), Buffer.alloc(1024)]));
    expect(() => readTarball(link)).toThrow(/unsupported tar entry type "2"/);
  });
});

describe('workspacePackages', () => {
  it('expands dir/* globs, takes plain folders, skips folders without a manifest and missing globs', () => {
    const root = tree({
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n  - tools/*\n  - single\n',
      'packages/a/package.json': '{"name":"@helm/a","version":"1.2.3","helm":{"tcb":true}}',
      'packages/empty/.keep': '',
      'single/package.json': '{"name":"@helm/single","private":true}',
    });
    expect(workspacePackages(root).map((p) => [p.name, p.dir, p.version, p.published, p.tcb])).toEqual([
      ['@helm/a', 'packages/a', '1.2.3', true, true],
      ['@helm/single', 'single', '0.0.0', false, false],
    ]);
    expect(workspacePackages(tree({ 'pnpm-workspace.yaml': '' }))).toEqual([]);
  });
});

describe('resolveTree (SBOM)', () => {
  const root = tree({
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    'packages/a/package.json': '{"name":"@helm/a","version":"0.1.0"}',
    'packages/b/package.json': '{"name":"@helm/b","version":"0.2.0"}',
  });
  const all = workspacePackages(root);
  const a = all[0] as (typeof all)[number];

  it('follows workspace links and peer-suffixed snapshots; a package without integrity says so', () => {
    const lock = `lockfileVersion: '9.0'
importers:
  packages/a:
    dependencies:
      '@helm/b': {specifier: 'workspace:^', version: 'link:../b'}
      x: {specifier: 1.0.0, version: '1.0.0(y@2.0.0)'}
  packages/b:
    optionalDependencies:
      y: {specifier: 2.0.0, version: 2.0.0}
packages:
  x@1.0.0: {resolution: {integrity: sha1-AAAA}}
  y@2.0.0: {resolution: {tarball: 'https://example.invalid/y.tgz'}}
snapshots:
  x@1.0.0(y@2.0.0):
    dependencies:
      y: 2.0.0
  y@2.0.0: {}
`;
    const t = resolveTree(lock, a, all);
    expect([...t.keys()].sort()).toEqual([
      'pkg:npm/%40helm/a@0.1.0',
      'pkg:npm/%40helm/b@0.2.0',
      'pkg:npm/x@1.0.0',
      'pkg:npm/y@2.0.0',
    ]);
    expect(t.get('pkg:npm/x@1.0.0')?.dependsOn).toEqual(['pkg:npm/y@2.0.0']);
    expect(t.get('pkg:npm/x@1.0.0')?.integrity).toBe('sha1-AAAA');
    expect(t.get('pkg:npm/y@2.0.0')?.integrity).toBeNull();
    expect(t.get('pkg:npm/%40helm/a@0.1.0')?.dependsOn).toEqual([
      'pkg:npm/%40helm/b@0.2.0',
      'pkg:npm/x@1.0.0',
    ]);
  });

  it('fails closed on a link it cannot follow', () => {
    const lock = `lockfileVersion: '9.0'
importers:
  packages/a:
    dependencies:
      '@helm/gone': {specifier: 'workspace:^', version: 'link:../gone'}
`;
    expect(() => resolveTree(lock, a, all)).toThrow(
      /links to packages\/gone, which is not a workspace package/,
    );
    expect(resolveTree('', a, all).size).toBe(1);
  });
});

describe('API report entry points', () => {
  it('takes string .d.ts targets and the `types` fallback; refuses a missing declaration file', () => {
    expect(typedEntries({ name: 'x', exports: { './a': './a.d.ts', './b': './b.js', './c': null } })).toEqual(
      [['./a', './a.d.ts']],
    );
    expect(typedEntries({ name: 'x', types: './index.d.ts' })).toEqual([['.', './index.d.ts']]);
    const root = tree({
      'package.json': '{"name":"@helm/t","types":"./index.d.ts"}',
      'index.d.ts':
        'export declare let counter: number;\nexport declare function f(): void;\nexport declare function f(n: number): void;\n',
    });
    const report = formatApiReport(buildApiReport(root, []));
    expect(report).toContain('### counter\n\n```ts\nexport declare let counter: number;\n```');
    expect(report).toContain(
      'export declare function f(): void;\nexport declare function f(n: number): void;',
    );
    const missing = tree({ 'package.json': '{"name":"@helm/m","types":"./gone.d.ts"}' });
    expect(() => buildApiReport(missing, [])).toThrow(/gone\.d\.ts \(exports\["\."\]\) not found/);
  });
});

describe('changesets and reason codes', () => {
  it('reads bumps from front matter, ignoring README and files without front matter', () => {
    const root = tree({
      '.changeset/README.md': '---\n"@helm/x": major\n---\n',
      '.changeset/a.md': '---\n\'@helm/x\': minor\n"@helm/y": patch\n---\n\ntext\n',
      '.changeset/b.md': 'no front matter\n',
    });
    const c = readChangesets(root);
    expect([...c.keys()]).toEqual(['a.md', 'b.md']);
    expect([...(c.get('a.md') ?? [])]).toEqual([
      ['@helm/x', 'minor'],
      ['@helm/y', 'patch'],
    ]);
    expect(c.get('b.md')?.size).toBe(0);
    expect(readChangesets(tree({})).size).toBe(0);
  });

  it('collects object keys and array strings of exported *CODES constants only', () => {
    const root = tree({
      'src/a.ts':
        "export const ERROR_CODES = ['E_ONE', 'E_TWO'] as const;\nexport const OTHER = { NOT_A_CODE: 1 };\n",
      'src/b.ts':
        'export const REASON_CODES = {\n  R_ONE: { verdict: "DENY" },\n  R_TWO: {},\n};\nexport const ALIAS_CODES = ERROR_CODES;\n',
    });
    expect(reasonCodesOf(root)).toEqual(['E_ONE', 'E_TWO', 'R_ONE', 'R_TWO']);
  });
});
