// The acceptance plants of issue 2: each violation planted in a copy of a clean workspace makes the
// check exit 1 naming the file; removing it makes the check pass again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFixture, run } from './helpers.ts';

let ws: ReturnType<typeof copyFixture>;
beforeEach(() => {
  ws = copyFixture('clean');
});
afterEach(() => ws.dispose());

function plant(file: string, text: string): { out: string; restore: () => void } {
  const original = ws.read(file);
  ws.write(file, text);
  const r = run(['check', '--root', ws.root]);
  expect(r.code).toBe(1);
  return { out: r.out, restore: () => ws.write(file, original) };
}

function expectClean(): void {
  const r = run(['check', '--root', ws.root]);
  expect(r.out).toMatch(/^tcb-check: clean/);
  expect(r.code).toBe(0);
}

describe('acceptance plants', () => {
  it('a node:fs import in guardian', () => {
    const file = 'packages/guardian/src/index.ts';
    const p = plant(
      file,
      `import { readFileSync } from 'node:fs';\n${ws.read(file)}\nexport const r = readFileSync;\n`,
    );
    expect(p.out).toContain(`${file}:1:1  @helm/guardian  [builtin]  imports Node built-in 'node:fs'`);
    p.restore();
    expectClean();
  });

  it('a Math.random() in crypto', () => {
    const file = 'packages/crypto/src/index.ts';
    const p = plant(file, `${ws.read(file)}export const jitter = () => Math.random();\n`);
    expect(p.out).toContain(`${file}:14:29  @helm/crypto  [ambient]  \`Math.random\``);
    p.restore();
    expectClean();
  });

  it('an import of @helm/cli from a TCB package', () => {
    const file = 'packages/contracts/src/index.ts';
    const p = plant(file, `export type { X } from '@helm/cli';\n${ws.read(file)}`);
    expect(p.out).toContain(
      `${file}:1:1  @helm/contracts  [non-tcb-import]  imports non-TCB workspace package @helm/cli`,
    );
    p.restore();
    expectClean();
  });

  it('a dependency cycle', () => {
    const file = 'packages/contracts/src/index.ts';
    const manifest = 'packages/contracts/package.json';
    const originalManifest = ws.read(manifest);
    ws.write(
      manifest,
      originalManifest.replace('"helm"', '"dependencies": { "@helm/guardian": "workspace:^" },\n  "helm"'),
    );
    const p = plant(
      file,
      `import { decide } from '@helm/guardian';\n${ws.read(file)}export const d = decide;\n`,
    );
    expect(p.out).toContain('[cycle]  dependency cycle: @helm/contracts → @helm/guardian → @helm/contracts');
    expect(p.out).toContain(`${file}:1:1  @helm/contracts  [internal-edge]  imports @helm/guardian`);
    p.restore();
    ws.write(manifest, originalManifest);
    expectClean();
  });

  it('an unlisted external dependency', () => {
    const manifest = 'packages/guardian/package.json';
    const originalManifest = ws.read(manifest);
    ws.write(
      manifest,
      originalManifest.replace('"dependencies": {', '"dependencies": {\n    "left-pad": "1.3.0",'),
    );
    const file = 'packages/guardian/src/index.ts';
    const p = plant(file, `import leftPad from 'left-pad';\n${ws.read(file)}export const lp = leftPad;\n`);
    expect(p.out).toContain(
      `${file}:1:1  @helm/guardian  [external-dependency]  imports external package left-pad`,
    );
    expect(p.out).toContain(
      `${manifest}:8:1  @helm/guardian  [external-dependency]  dependency left-pad@1.3.0 is not on`,
    );
    p.restore();
    ws.write(manifest, originalManifest);
    expectClean();
  });

  it('a new Function call', () => {
    const file = 'packages/guardian/src/index.ts';
    const p = plant(file, `${ws.read(file)}export const f = new Function('return 1');\n`);
    expect(p.out).toContain(`${file}:25:22  @helm/guardian  [dynamic-code]  \`Function\``);
    p.restore();
    expectClean();
  });

  it('a lowered coverage threshold', () => {
    const file = 'packages/crypto/vitest.config.ts';
    const p = plant(file, ws.read(file).replace('helmVitestConfig()', 'helmVitestConfig({ threshold: 89 })'));
    expect(p.out).toContain(
      `${file}:3:1  @helm/crypto  [coverage-gate]  coverage threshold must be a number literal >= 90`,
    );
    p.restore();
    expectClean();
  });

  it('a lowered shared threshold', () => {
    const file = 'vitest.shared.ts';
    const p = plant(file, ws.read(file).replace('COVERAGE_THRESHOLD = 90', 'COVERAGE_THRESHOLD = 50'));
    expect(p.out).toContain(
      `${file}:3:1  (policy)  [coverage-gate]  COVERAGE_THRESHOLD must be a number literal >= 90`,
    );
    const q = plant(file, ws.read(file).replace('lines: threshold', 'lines: 10'));
    expect(q.out).toContain('coverage thresholds.lines must be the shared `threshold`');
    p.restore();
    expectClean();
  });

  it('a version drift between the policy and the lockfile', () => {
    const file = 'pnpm-lock.yaml';
    const p = plant(file, ws.read(file).replace('        version: 2.4.0', '        version: 2.4.1'));
    expect(p.out).toContain(
      '@noble/hashes: TCB_POLICY.md allowlists 2.4.0 but pnpm-lock.yaml resolves 2.4.1',
    );
    const q = plant(file, ws.read(file).replace(/ {6}'@noble\/hashes':\n.*\n.*\n/, ''));
    expect(q.out).toContain('@noble/hashes: pnpm-lock.yaml resolves no version for packages/crypto');
    p.restore();
    expectClean();
  });

  it('a cycle in the policy itself', () => {
    const file = 'TCB_POLICY.md';
    const p = plant(
      file,
      ws.read(file).replace('"contracts": { "internal": []', '"contracts": { "internal": ["guardian"]'),
    );
    expect(p.out).toContain("the policy's allowed edges contain a cycle: contracts → guardian → contracts");
    p.restore();
    expectClean();
  });

  it('a policy entry marking itself or a package not marked TCB', () => {
    const file = 'TCB_POLICY.md';
    const p = plant(
      file,
      ws.read(file).replace('"contracts": { "internal": []', '"contracts": { "internal": ["contracts"]'),
    );
    expect(p.out).toContain('@helm/contracts lists itself as an internal dependency');
    p.restore();
    const manifest = 'packages/contracts/package.json';
    const q = plant(manifest, ws.read(manifest).replace('"tcb": true', '"tcb": false'));
    expect(q.out).toContain('@helm/contracts is in the policy but its package.json is not marked');
    q.restore();
    expectClean();
  });

  it('an import of an allowlisted package that package.json does not declare', () => {
    const manifest = 'packages/crypto/package.json';
    const original = ws.read(manifest);
    const p = plant(
      manifest,
      original
        .replace('"@noble/hashes": "2.4.0"', '"@helm/guardian": "workspace:^"')
        .replace('"workspace:^",\n    "@helm/guardian"', '"workspace:^",\n    "@helm/guardian"'),
    );
    expect(p.out).toContain(
      'imports @noble/hashes without declaring it in packages/crypto/package.json dependencies',
    );
    expect(p.out).toContain('depends on @helm/guardian, which is not an allowed edge');
    p.restore();
    const g = 'packages/guardian/package.json';
    const q = plant(g, ws.read(g).replace(',\n    "@helm/crypto": "workspace:^"', ''));
    expect(q.out).toContain(
      'imports @helm/crypto without declaring it in packages/guardian/package.json dependencies',
    );
    q.restore();
    expectClean();
  });

  it('a # subpath import: allowed only when the package maps it to its own sources', () => {
    const file = 'packages/crypto/src/index.ts';
    const manifest = 'packages/crypto/package.json';
    const originalManifest = ws.read(manifest);
    const withImports = (imports: unknown) =>
      ws.write(manifest, JSON.stringify({ ...JSON.parse(originalManifest), imports }, null, 2));
    const p = plant(file, `export { systemClock } from '#clock';\n${ws.read(file)}`);
    expect(p.out).toContain(`subpath import '#clock' is not in the package.json "imports" map`);
    // Mapped to its own source under every condition: clean.
    withImports({ '#clock': { browser: './dist/internal/clock.js', default: './dist/internal/clock.js' } });
    let r = run(['check', '--root', ws.root]);
    expect(r.out).not.toContain('#clock');
    // One condition naming something else (a dependency's file, a path out of dist, a missing
    // source) is a violation.
    for (const [target, message] of [
      ['../../node_modules/x/index.js', 'not a ./dist/<file>.js of the package'],
      ['./dist/../../evil.js', 'not a ./dist/<file>.js of the package'],
      ['./dist/internal/missing.js', 'which no src/internal/missing.ts of the package builds'],
    ] as const) {
      withImports({ '#clock': { browser: target, default: './dist/internal/clock.js' } });
      r = run(['check', '--root', ws.root]);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`[internal-edge]  subpath import '#clock' maps to`);
      expect(r.out).toContain(message);
    }
    ws.write(manifest, originalManifest);
    p.restore();
    expectClean();
  });
});
