// release:diff --coverage: coverage deltas between two refs, measured by running each changed
// package's own `test` script in each materialised (installed and built) ref — not read from
// whatever summary the working tree happens to hold. The fixture's test script stands in for vitest:
// it writes the coverage summary its source declares and exits with the code its source declares,
// so each ref measures something different and a failing ref is visible.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiff } from '../src/diff.ts';
import { git, run } from './fixture.ts';

const HOOK_TIMEOUT = 120_000;
let root: string;

const write = (file: string, text: string): void => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
};

/** A package whose test writes `pct` as its line coverage and exits `exit`. */
function core(pct: number, exit: number): void {
  write('packages/core/src/index.js', `export const COVERAGE = ${pct};\nexport const EXIT = ${exit};\n`);
}

function tag(name: string): void {
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', name);
  git(root, 'tag', name);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'helm-release-coverage-'));
  git(root, 'init', '-q', '-b', 'main');
  write(
    'package.json',
    `${JSON.stringify({ name: 'fixture', private: true, scripts: { build: 'node -e 0' } }, null, 2)}\n`,
  );
  write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n');
  write('.gitignore', 'node_modules/\ncoverage/\n');
  write(
    'packages/core/package.json',
    `${JSON.stringify(
      {
        name: '@helm/core',
        version: '0.1.0',
        type: 'module',
        files: ['src'],
        exports: { '.': './src/index.js' },
        scripts: { test: 'node test.mjs' },
      },
      null,
      2,
    )}\n`,
  );
  write(
    'packages/core/test.mjs',
    [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      "import { COVERAGE, EXIT } from './src/index.js';",
      "mkdirSync('coverage', { recursive: true });",
      "writeFileSync('coverage/coverage-summary.json', JSON.stringify({ total: { lines: { pct: COVERAGE } } }));",
      'process.exit(EXIT);',
      '',
    ].join('\n'),
  );
  write(
    'packages/same/package.json',
    `${JSON.stringify({ name: '@helm/same', version: '0.1.0', files: ['src'], scripts: { test: 'exit 7' } }, null, 2)}\n`,
  );
  write('packages/same/src/index.js', 'export const same = 1;\n');
  core(80, 0);
  // The lockfile `pnpm install --frozen-lockfile` wants (no external dependencies: works offline).
  execFileSync('pnpm', ['install', '--prefer-offline', '--ignore-scripts'], { cwd: root, stdio: 'pipe' });
  tag('v1');
  core(90.5, 0);
  tag('v2');
  core(70, 3);
  tag('v3');
}, HOOK_TIMEOUT);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('I-RELEASE-1: release:diff --coverage', () => {
  it('without --coverage, refs have no measured coverage', () => {
    const r = run(['diff', 'v1', 'v2', '--no-pack', '--json'], root);
    const core = JSON.parse(r.out).packages.find((p: { name: string }) => p.name === '@helm/core');
    expect(core.coverage).toEqual({ from: null, to: null, delta: null });
  });

  it(
    'runs the tests of each changed package in each ref and reports both coverages and the delta',
    () => {
      // A stale summary in the working tree must not leak into either ref's number.
      write('packages/core/coverage/coverage-summary.json', '{"total":{"lines":{"pct":12}}}');
      const json = run(['diff', 'v1', 'v2', '--no-pack', '--coverage', '--json'], root);
      expect(json.code).toBe(0);
      expect(json.err).toContain('running the tests of 1 package(s) in each ref');
      const diff = JSON.parse(json.out);
      const core = diff.packages.find((p: { name: string }) => p.name === '@helm/core');
      expect(core.coverage).toEqual({ from: 80, to: 90.5, delta: 10.5, tests: { from: 0, to: 0 } });
      // The unchanged package's tests (which would fail) are not run.
      const same = diff.packages.find((p: { name: string }) => p.name === '@helm/same');
      expect(same.coverage).toEqual({ from: null, to: null, delta: null });
      expect(formatDiff(diff, { all: true })).toContain(
        'line coverage 80% → 90.5% (+10.5); tests pass → pass',
      );
    },
    HOOK_TIMEOUT,
  );

  it(
    'reports a ref whose tests fail as a finding (exit 1), with the coverage it still measured',
    () => {
      const r = run(['diff', 'v2', 'v3', '--no-pack', '--coverage', '--json'], root);
      expect(r.code).toBe(1);
      const diff = JSON.parse(r.out);
      expect(diff.findings).toEqual([
        {
          code: 'tests-failed',
          package: '@helm/core',
          message: 'the tests of @helm/core fail at v3 (pnpm --filter @helm/core test exited 3)',
        },
      ]);
      const core = diff.packages.find((p: { name: string }) => p.name === '@helm/core');
      expect(core.coverage).toEqual({ from: 90.5, to: 70, delta: -20.5, tests: { from: 0, to: 3 } });
      // Failing tests at the first ref only are history, not a finding about the release.
      const back = run(['diff', 'v3', 'v2', '--no-pack', '--coverage', '--json'], root);
      expect(back.code).toBe(0);
      expect(JSON.parse(back.out).findings).toEqual([]);
    },
    HOOK_TIMEOUT,
  );

  it(
    '--package runs that package even when its sources did not change',
    () => {
      const r = run(
        ['diff', 'v1', 'v2', '--no-pack', '--coverage', '--package', '@helm/same', '--json'],
        root,
      );
      const same = JSON.parse(r.out).packages.find((p: { name: string }) => p.name === '@helm/same');
      expect(same.coverage).toEqual({ from: null, to: null, delta: null, tests: { from: 7, to: 7 } });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).findings.map((f: { code: string }) => f.code)).toEqual(['tests-failed']);
    },
    HOOK_TIMEOUT,
  );
});
