// Rule `unused-dependency` (issue #17 §4): a workspace package — TCB or not — that declares an
// internal `@helm/*` dependency it never references fails the check, at the manifest line of the
// declaration. Each plant goes into a copy of the clean fixture; undoing it makes the check clean.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFixture, run } from './helpers.ts';

let ws: ReturnType<typeof copyFixture>;
beforeEach(() => {
  ws = copyFixture('clean');
});
afterEach(() => ws.dispose());

const check = (): { code: number; out: string } => run(['check', '--root', ws.root]);
const unused = (out: string): string[] => out.split('\n').filter((l) => l.includes('[unused-dependency]'));

function expectClean(): void {
  const r = check();
  expect(r.out).toMatch(/^tcb-check: clean/);
  expect(r.code).toBe(0);
}

/** Adds `dep` to `kind` of the manifest at `file` (creating the field when missing). */
function declare(file: string, kind: string, dep: string): void {
  const manifest = JSON.parse(ws.read(file)) as Record<string, Record<string, string> | unknown>;
  manifest[kind] = { ...((manifest[kind] as Record<string, string>) ?? {}), [dep]: 'workspace:^' };
  ws.write(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

describe('unused-dependency', () => {
  it('the clean fixture declares only edges it uses', () => {
    expectClean();
  });

  it('a runtime dependency nothing in src/ references fails, in a non-TCB package too', () => {
    const manifest = 'apps/cli/package.json';
    const original = ws.read(manifest);
    declare(manifest, 'dependencies', '@helm/crypto');
    const r = check();
    expect(r.code).toBe(1);
    expect(unused(r.out)).toEqual([
      `${manifest}:10:1  @helm/cli  [unused-dependency]  declares @helm/crypto in dependencies, but nothing that ships (src/, emitted declarations) references it: remove the dependency`,
    ]);
    ws.write(manifest, original);
    expectClean();
  });

  it('a TCB package declaring an allowed edge it does not import fails', () => {
    const g = 'packages/guardian/package.json';
    const file = 'packages/guardian/src/index.ts';
    const source = ws.read(file);
    // Drop every reference to @helm/crypto: the declaration stays, the use goes.
    ws.write(
      file,
      source
        .replace("import * as crypto from '@helm/crypto';\n", '')
        .replace("import { digest as hash } from '@helm/crypto';\n", '')
        .replace("export { ok } from '@helm/crypto';\n", '')
        .replace('hash(new Uint8Array()) && crypto.ok', 'true'),
    );
    const r = check();
    expect(r.code).toBe(1);
    expect(unused(r.out)).toEqual([
      `${g}:9:1  @helm/guardian  [unused-dependency]  declares @helm/crypto in dependencies, but nothing that ships (src/, emitted declarations) references it: remove the dependency`,
    ]);
    ws.write(file, source);
    expectClean();
  });

  it('a runtime dependency only tests reference is told to move to devDependencies', () => {
    const manifest = 'apps/cli/package.json';
    declare(manifest, 'dependencies', '@helm/crypto');
    mkdirSync(join(ws.root, 'apps/cli/test'));
    ws.write('apps/cli/test/x.test.ts', "import { ok } from '@helm/crypto';\nconsole.log(ok);\n");
    expect(unused(check().out)).toEqual([
      `${manifest}:10:1  @helm/cli  [unused-dependency]  declares @helm/crypto in dependencies, but only files outside src/ (tests, benches) reference it: move it to devDependencies`,
    ]);
    // As a devDependency it is used (by the test) and clean.
    const manifestJson = JSON.parse(ws.read(manifest)) as {
      dependencies: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    delete manifestJson.dependencies['@helm/crypto'];
    manifestJson.devDependencies = { '@helm/crypto': 'workspace:^' };
    ws.write(manifest, JSON.stringify(manifestJson, null, 2));
    expectClean();
  });

  it('an unreferenced devDependency fails; a reference from a test, a bench or a config is a use', () => {
    const manifest = 'apps/cli/package.json';
    declare(manifest, 'devDependencies', '@helm/contracts');
    expect(unused(check().out)).toEqual([
      `${manifest}:12:1  @helm/cli  [unused-dependency]  declares @helm/contracts in devDependencies, but no file of the package references it: remove it`,
    ]);
    mkdirSync(join(ws.root, 'apps/cli/bench'));
    ws.write(
      'apps/cli/bench/index.ts',
      "import type { Verdict } from '@helm/contracts';\nexport type V = Verdict;\n",
    );
    expectClean();
  });

  it('counts every module reference form, including subpaths and type-only ones', () => {
    const manifest = 'apps/cli/package.json';
    declare(manifest, 'dependencies', '@helm/crypto');
    const file = 'apps/cli/src/bin.ts';
    const original = ws.read(file);
    const forms = [
      "import type { X } from '@helm/crypto/envelope';",
      "export { ok } from '@helm/crypto';",
      "export type * from '@helm/crypto';",
      "const m = await import('@helm/crypto'); console.log(m);",
      "const r = require('@helm/crypto'); console.log(r);",
      "import c = require('@helm/crypto'); console.log(c);",
      "export type T = typeof import('@helm/crypto');",
      "console.log(import.meta.resolve('@helm/crypto'));",
      "console.log(require.resolve('@helm/crypto/package.json'));",
    ];
    for (const form of forms) {
      ws.write(file, `${original}${form}\n`);
      const r = check();
      expect(unused(r.out), form).toEqual([]);
      expect(r.code, form).toBe(0);
    }
  });

  it('a mention in a comment or a string is not a reference', () => {
    const manifest = 'apps/cli/package.json';
    declare(manifest, 'dependencies', '@helm/crypto');
    const file = 'apps/cli/src/bin.ts';
    ws.write(
      file,
      `${ws.read(file)}// import { ok } from '@helm/crypto';\n/** @example import '@helm/crypto' */\nconsole.log('@helm/crypto', \`\${'@helm/crypto'}\`);\n`,
    );
    expect(unused(check().out)).toHaveLength(1);
  });

  it('a reference in an emitted declaration (dist/*.d.ts) keeps a runtime dependency', () => {
    const manifest = 'apps/cli/package.json';
    declare(manifest, 'dependencies', '@helm/crypto');
    expect(unused(check().out)).toHaveLength(1);
    mkdirSync(join(ws.root, 'apps/cli/dist'));
    ws.write('apps/cli/dist/bin.d.ts', "export declare const k: import('@helm/crypto').Key;\n");
    expectClean();
    // Compiled JavaScript in dist/ is not a source: it cannot keep a dependency alive.
    ws.write('apps/cli/dist/bin.d.ts', 'export {};\n');
    ws.write('apps/cli/dist/bin.js', "import '@helm/crypto';\n");
    expect(unused(check().out)).toHaveLength(1);
  });

  it('--json carries the rule id', () => {
    declare('apps/cli/package.json', 'peerDependencies', '@helm/contracts');
    const r = run(['check', '--json', '--root', ws.root]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as {
      violations: Array<{ rule: string; package: string; message: string }>;
    };
    expect(json.violations).toEqual([
      expect.objectContaining({
        rule: 'unused-dependency',
        package: '@helm/cli',
        message: expect.stringContaining('declares @helm/contracts in peerDependencies'),
      }),
    ]);
  });
});
