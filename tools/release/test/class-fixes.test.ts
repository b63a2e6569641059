// Unit tests of the class fixes for the red team's #22 findings (I-RELEASE-1), at the level of the
// helpers: what counts as a bump, what a package ships, which repository settings shape every pack,
// how reason-code registries are followed, and the API report's entry points and import() types.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApiReport, formatApiReport, requiredBump, typedEntries } from '../src/api-report.ts';
import { versionBump } from '../src/diff.ts';
import { packInputs, reasonCodesOf, shipsOrBuilds } from '../src/evidence.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'helm-release-class-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('I-RELEASE-1: only a semver increase is a bump', () => {
  it('sizes increases, refuses decreases, equal or lower prereleases and non-semver', () => {
    expect(versionBump('0.1.0-rc.1', '0.1.0')).toBe('patch');
    expect(versionBump('0.1.0-rc.1', '0.1.0-rc.2')).toBe('patch');
    expect(versionBump('0.1.0-rc.2', '0.1.0-rc.10')).toBe('patch');
    expect(versionBump('0.1.0-rc.10', '0.1.0-rc.2')).toBe('none');
    expect(versionBump('0.1.0-beta', '0.1.0-alpha')).toBe('none');
    expect(versionBump('1.0.0', '2.0.0-rc.1')).toBe('major');
    expect(versionBump('2.0.0', '1.9.9')).toBe('none');
    expect(versionBump('0.1.0', 'banana')).toBe('none');
    expect(versionBump('0.1', '0.2')).toBe('none');
  });
});

describe('I-RELEASE-1: what a package ships or builds from', () => {
  const m = { name: '@helm/x', files: ['dist', 'lib/*.js'], main: './bin/main.js', bin: { x: './cli.js' } };
  it('follows files entries, globs, always-included files, main/bin and build inputs', () => {
    for (const f of [
      'dist/a.js',
      'lib/b.js',
      'README.md',
      'LICENSE',
      'package.json',
      'bin/main.js',
      'cli.js',
    ])
      expect(shipsOrBuilds(m, f), f).toBe(true);
    for (const f of ['src/index.ts', 'tsconfig.json', 'tsconfig.build.json', '.npmignore'])
      expect(shipsOrBuilds(m, f), f).toBe(true);
    for (const f of ['test/a.test.ts', 'lib/sub/c.ts', 'coverage/x.json', 'vitest.config.ts'])
      expect(shipsOrBuilds(m, f), f).toBe(false);
  });
  it('without `files` the whole folder ships', () => {
    expect(shipsOrBuilds({ name: '@helm/y' }, 'anything/at/all.txt')).toBe(true);
  });
});

describe('I-RELEASE-1: repository pack settings', () => {
  it('are the pnpmfiles (default and named by a setting), .npmrc and pnpm settings, not the package list', () => {
    const root = tree({
      '.pnpmfile.cjs': 'module.exports = {};\n',
      'hooks/pack.cjs': 'module.exports = {};\n',
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\npnpmfile: hooks/pack.cjs\n',
      'package.json': '{"name":"r","pnpm":{"overrides":{"a":"1"}}}',
    });
    expect([...packInputs(root).keys()].sort()).toEqual([
      '.pnpmfile.cjs',
      'hooks/pack.cjs',
      'package.json (pnpm)',
      'pnpm-workspace.yaml (settings)',
    ]);
    const plain = tree({
      'pnpm-workspace.yaml': 'packages:\n  - a/*\n  - b/*\n',
      'package.json': '{"name":"r"}',
    });
    expect(packInputs(plain).size).toBe(0);
  });
});

describe('I-RELEASE-1: reason-code registries', () => {
  it('follows spreads and aliases; lists what it cannot follow as unresolved', () => {
    const root = tree({
      'src/a.ts':
        "const BASE = { R_BASE: 'R_BASE' };\nconst MORE = { ...BASE, R_MORE: 1 };\nexport const REASON_CODES = { ...MORE, ...imported, R_OWN: 1 };\nexport const OTHER_CODES = makeCodes();\n",
    });
    expect(reasonCodesOf(root)).toEqual([
      '(unresolved OTHER_CODES)',
      '(unresolved imported)',
      'R_BASE',
      'R_MORE',
      'R_OWN',
    ]);
  });
});

describe('I-RELEASE-1: API report blind spots', () => {
  it('finds types in nested conditions and follows import() type nodes and augmentations', () => {
    expect(
      typedEntries({
        name: '@helm/n',
        exports: { '.': { import: { types: './i.d.ts', default: './i.js' } }, './x': './x.js' },
      }),
    ).toEqual([['.', './i.d.ts']]);
    const root = tree({
      'package.json': '{"name":"@helm/t","types":"./index.d.ts"}',
      'index.d.ts':
        "export declare function f(b: import('./inner.js').Budget): void;\ndeclare global {\n  interface Array<T> { readonly helm: true }\n}\nexport {};\n",
      'inner.d.ts': 'export interface Budget {\n  readonly limit: number;\n}\n',
    });
    const report = formatApiReport(buildApiReport(root, []));
    expect(report).toContain('### inner.d.ts#Budget');
    expect(report).toContain('## (global)');
    expect(report).toContain('readonly helm: true');
    expect(requiredBump([{ kind: 'added', entry: '(global)', name: 'index.d.ts#global' }], '1.0.0')).toBe(
      'major',
    );
  });
});
