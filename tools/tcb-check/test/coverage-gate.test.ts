import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPackageGate, checkSharedGate, globMatches } from '../src/coverage-gate.ts';

const root = mkdtempSync(join(tmpdir(), 'tcb-gate-'));
const pkg = join(root, 'packages', 'p');
mkdirSync(pkg, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const IMPORT = "import { helmVitestConfig } from '../../vitest.shared.ts';\n";
const SRC = ['src/index.ts', 'src/a.ts', 'src/internal/b.ts', 'src/internal/c.ts'];

function gate(config: string | null, script = 'vitest run --coverage', name = 'vitest.config.ts') {
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  if (config !== null) writeFileSync(join(pkg, name), config);
  const r = checkPackageGate(root, pkg, script, join(pkg, 'package.json'), 7, 90, SRC);
  return { messages: r.findings.map((f) => `${f.line}:${f.message}`), config: r.config };
}

describe('checkPackageGate', () => {
  it('accepts the shared gate with allowed options', () => {
    const r = gate(
      `${IMPORT}// why\nexport default helmVitestConfig({ threshold: 95, testTimeout: 1_000, coverageExclude: ['src/a.ts'] });\n`,
    );
    expect(r.messages).toEqual([]);
    expect(r.config).toEqual({ threshold: 95, coverageExclude: ['src/a.ts'] });
  });

  it('accepts an aliased import and the .mts name', () => {
    const r = gate(
      "import { helmVitestConfig as gate } from '../../vitest.shared.ts';\nexport default gate();\n",
      'vitest  run   --coverage',
      'vitest.config.mts',
    );
    expect(r.messages).toEqual([]);
  });

  it.each([
    ['threshold: 89', '89'],
    ['threshold: LOW', 'LOW'],
  ])('rejects %s', (option) => {
    expect(gate(`${IMPORT}export default helmVitestConfig({ ${option} });\n`).messages).toEqual([
      "2:coverage threshold must be a number literal >= 90 (the policy's coverageThreshold)",
    ]);
  });

  it.each([
    ["{ coverageExclude: ['src/**'] }", 'excludes the package entry point'],
    ["{ coverageExclude: ['src/internal/*.ts'] }", 'matches 2 files; exclude files one by one'],
    ['{ coverageExclude: PATTERNS }', 'coverageExclude must be an array of string literals'],
    ['{ ...base }', 'unsupported helmVitestConfig() option'],
    ['{ thresholds: {} }', 'unsupported helmVitestConfig() option'],
    ['{ threshold() { return 1; } }', 'unsupported helmVitestConfig() option'],
    ['options', 'options must be an object literal'],
    ['{}, {}', 'takes at most one options object'],
  ])('rejects helmVitestConfig(%s)', (args, message) => {
    const r = gate(`${IMPORT}export default helmVitestConfig(${args});\n`);
    expect(r.messages.join('\n')).toContain(message);
  });

  it.each([
    [null, 'no vitest.config.ts'],
    [
      "import { defineConfig } from 'vitest/config';\nexport default defineConfig({});\n",
      'direct call of helmVitestConfig()',
    ],
    [`${IMPORT}const c = helmVitestConfig();\nexport default c;\n`, 'may only import'],
    [`${IMPORT}export default mergeConfig(helmVitestConfig(), {});\n`, 'direct call'],
    [`${IMPORT}helmVitestConfig();\n`, 'has no default export'],
    [
      "import { helmVitestConfig } from './elsewhere.ts';\nexport default helmVitestConfig();\n",
      'does not import helmVitestConfig',
    ],
    [
      "import * as shared from '../../vitest.shared.ts';\nexport default shared.helmVitestConfig();\n",
      'direct call',
    ],
  ])('rejects config %#', (config, message) => {
    expect(gate(config).messages.join('\n')).toContain(message);
  });

  it.each([['vitest run'], ['vitest run --coverage --coverage.thresholds.lines=10'], ['vitest']])(
    'rejects the test script %j',
    (script) => {
      expect(gate(`${IMPORT}export default helmVitestConfig();\n`, script).messages).toEqual([
        `7:scripts.test must be exactly "vitest run --coverage" (found ${JSON.stringify(script)})`,
      ]);
    },
  );

  it('rejects a missing test script and several configs', () => {
    rmSync(pkg, { recursive: true, force: true });
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'vitest.config.ts'), '');
    writeFileSync(join(pkg, 'vitest.config.js'), '');
    const r = checkPackageGate(root, pkg, undefined, join(pkg, 'package.json'), 1, 90);
    expect(r.findings.map((f) => f.message)).toEqual([
      'scripts.test must be exactly "vitest run --coverage" (found null)',
      'several vitest configs (vitest.config.ts, vitest.config.js); keep exactly one',
    ]);
  });
});

describe('checkSharedGate', () => {
  const shared = (text: string | null) => {
    const file = join(root, 'vitest.shared.ts');
    rmSync(file, { force: true });
    if (text !== null) writeFileSync(file, text);
    return checkSharedGate(root, 90);
  };
  const GOOD = 'thresholds: { lines: threshold, branches: threshold, functions: 95, statements }';

  it('accepts the shared threshold and literal thresholds above it', () => {
    expect(
      shared(
        `export const COVERAGE_THRESHOLD = 90;\nconst threshold = 1;\nconst statements = threshold;\nconst c = { ${GOOD.replace('statements }', 'statements: threshold }')} };\n`,
      ),
    ).toEqual({
      findings: [],
      threshold: 90,
    });
  });

  it.each([
    [null, 'vitest.shared.ts is missing'],
    [`const x = { ${GOOD} };`, 'COVERAGE_THRESHOLD is not declared'],
    ['export const COVERAGE_THRESHOLD = 90;', 'no coverage `thresholds` are configured'],
    [`export const COVERAGE_THRESHOLD = 90; const c = { ${GOOD} };`, 'thresholds.statements must be'],
    ['export const COVERAGE_THRESHOLD = 90; const c = { thresholds: T };', 'thresholds.lines must be'],
    [
      'export const COVERAGE_THRESHOLD = 90; const c = { thresholds: { lines: 80 } };',
      'thresholds.lines must be',
    ],
    ['export const COVERAGE_THRESHOLD = Number("9");', 'COVERAGE_THRESHOLD must be a number literal'],
  ])('rejects %#', (text, message) => {
    expect(
      shared(text)
        .findings.map((f) => f.message)
        .join('\n'),
    ).toContain(message);
  });
});

describe('globMatches', () => {
  it.each([
    ['src/index.ts', 'src/**', true],
    ['src/index.ts', '**/*.ts', true],
    ['src/index.ts', './src/*.ts', false],
    ['src/a/b.ts', 'src/*.ts', false],
    ['src/a/b.ts', 'src/**/b.ts', true],
    ['src/b.ts', 'src/**/b.ts', true],
    ['src/ab.ts', 'src/a?.ts', true],
    ['src/a+b.ts', 'src/a+b.ts', true],
  ])('%s ~ %s = %s', (path, glob, expected) => {
    expect(globMatches(path, glob)).toBe(expected);
  });
});
