import { describe, expect, it } from 'vitest';
import { analyzeSource, countLinesOfCode } from '../src/analyze.ts';

const findings = (code: string, file = 'x.ts'): string[] =>
  analyzeSource(file, code).findings.map((f) => `${f.line}:${f.rule}`);

describe('ambient and dynamic-code findings', () => {
  it.each([
    ['Date.now()', 'ambient'],
    ['new Date()', 'ambient'],
    ['new Date', 'ambient'],
    ['Date()', 'ambient'],
    ['Math.random()', 'ambient'],
    ['globalThis.Math.random()', 'ambient'],
    ['global.Date.now()', 'ambient'],
    ['window.performance.now()', 'ambient'],
    ['self.crypto.randomUUID()', 'ambient'],
    ['(Math as any).random()', 'ambient'],
    ['Math!.random()', 'ambient'],
    ['Math["random"]()', 'ambient'],
    ['crypto.subtle.generateKey', 'ambient'],
    ['performance.timeOrigin', 'ambient'],
    ['process.hrtime()', 'ambient'],
    ['const p = { process };', 'ambient'],
    ['function f(e = process) { return e; }', 'ambient'],
    ['const { a = process } = {};', 'ambient'],
    ['new XMLHttpRequest()', 'ambient'],
    ['new WebSocket("ws://x")', 'ambient'],
    ['Date[k]', 'ambient'],
    ['eval("1")', 'dynamic-code'],
    ['const e = eval;', 'dynamic-code'],
    ['Function.prototype.call', 'dynamic-code'],
    ['require.resolve("x")', 'dynamic-code'],
    ['globalThis[k]', 'dynamic-code'],
    ['new (fn.constructor)("x")', 'dynamic-code'],
    ['new Worker(new URL("data:text/javascript,1"))', 'dynamic-code'],
    ['new Worker("./w.js", { "eval": 1 })', 'dynamic-code'],
    ['new Worker("./w.js", { eval: !0 })', 'dynamic-code'],
  ])('%s → %s', (code, rule) => {
    expect(findings(code)).toEqual([`1:${rule}`]);
  });

  it.each([
    ['new Date(0)'],
    ['Date.UTC(2020, 0, 1)'],
    ['Date.parse("2020-01-01")'],
    ['Math.max(1, 2)'],
    ['x instanceof Function'],
    ['const o = { eval: 1, process: 2, Function: 3 }; o.eval; o.process;'],
    ['class A { process() {} eval = 1; get random() { return 1; } }'],
    ['function f(process: { env: object }) { return process.env; }'],
    ['function g() { const Math = { random: () => 1 }; return Math.random(); }'],
    ['const Date = class {}; new Date();'],
    ['try { x(); } catch (process) { void process; }'],
    ['for (const eval2 of []) void eval2;'],
    ['type T = typeof Date.now; let v: ReturnType<typeof Math.random>;'],
    ['interface I { now: typeof performance.now }'],
    ['new Worker("./w.js")'],
    ['new Worker(new URL("./w.js", import.meta.url), { eval: false })'],
    ['label: for (;;) { break label; }'],
    ['enum E { process = 1 }'],
    ['namespace N { export const x = 1; }'],
    ['const { max } = Math; const [first] = [Math]; const { ...rest } = Math;'],
    ['switch (1) { case 1: { const Math = 1; void Math; } }'],
    ['const f = function process() { return process; };'],
    ['const K = class Date2 {};'],
  ])('accepts %s', (code) => {
    expect(findings(code)).toEqual([]);
  });

  it('follows const aliases and destructuring of globals', () => {
    expect(
      findings(
        [
          'const M = Math;',
          'const r = M.random;',
          'const { now } = Date;',
          'const G = globalThis;',
          'G.eval("1");',
        ].join('\n'),
      ),
    ).toEqual(['2:ambient', '3:ambient', '5:dynamic-code']);
  });

  it('reports imported ambient bindings where they are used (so injection points can import them)', () => {
    const code = [
      "import { randomBytes as rb, createHash } from 'node:crypto';",
      "import * as c from 'crypto';",
      "import { webcrypto } from 'node:crypto';",
      "import { performance as perf } from 'node:perf_hooks';",
      "import proc from 'node:process';",
      'rb(1); createHash("sha256");',
      'c.randomInt(3);',
      'webcrypto.getRandomValues(new Uint8Array(1));',
      'perf.now();',
      'proc.argv;',
    ].join('\n');
    expect(findings(code)).toEqual(['6:ambient', '7:ambient', '8:ambient', '9:ambient', '10:ambient']);
  });

  it('records the enclosing declarations of a finding', () => {
    const code = [
      'export function systemClock() { return { now: () => Date.now() }; }',
      'export class Entropy { fill() { return Math.random(); } }',
      'export const clock = { now: () => performance.now() };',
    ].join('\n');
    const a = analyzeSource('x.ts', code);
    expect(a.findings.map((f) => f.enclosing)).toEqual([
      ['systemClock'],
      ['Entropy.fill', 'Entropy'],
      ['clock'],
    ]);
    expect([...a.declarations].sort()).toEqual(['Entropy', 'Entropy.fill', 'clock', 'systemClock']);
  });
});

describe('module references', () => {
  it('collects every kind of import with its type-only flag and line', () => {
    const code = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import { type C } from 'c';",
      "import 'd';",
      "export { e } from 'e';",
      "export type { F } from 'f';",
      "export * from 'g';",
      "import h = require('h');",
      "const i = import('i');",
      "const j = require('j');",
      "let k: typeof import('k');",
      'const l = import(name);',
      "import type m = require('m');",
    ].join('\n');
    const imports = analyzeSource('x.ts', code).imports.map(
      (i) => `${i.line}:${i.specifier}:${i.kind}:${i.typeOnly}`,
    );
    expect(imports).toEqual([
      '1:a:import:false',
      '2:b:import:true',
      '3:c:import:false', // `import { type C }` still loads 'c' at run time under verbatimModuleSyntax
      '4:d:import:false',
      '5:e:export:false',
      '6:f:export:true',
      '7:g:export:false',
      '8:h:import-equals:false',
      '9:i:dynamic:false',
      '10:j:require:false',
      '11:k:type:true',
      '13:m:import-equals:true',
    ]);
  });

  it('flags re-exports of ambient members', () => {
    expect(
      findings(
        "export { randomUUID, createHash } from 'node:crypto';\nexport { type X } from 'node:crypto';",
      ),
    ).toEqual(['1:ambient']);
  });

  it('parses JavaScript and TSX files', () => {
    expect(findings('Math.random()', 'x.mjs')).toEqual(['1:ambient']);
    expect(findings('const e = <div>{Date.now()}</div>;', 'x.tsx')).toEqual(['1:ambient']);
  });
});

describe('countLinesOfCode', () => {
  it('counts lines with tokens, not comments or blank lines', () => {
    const code = [
      '// a comment',
      '/* a block',
      '   comment */',
      '',
      'const a = 1; // trailing',
      'const s = `multi',
      'line // not a comment',
      '`;',
      '/** doc */ export { a, s };',
    ].join('\n');
    expect(countLinesOfCode('x.ts', code)).toBe(5);
  });
});

describe('wire-pattern findings', () => {
  it.each([
    ['const D = /^sha256:[0-9a-f]{64}$/;'],
    ['const K = /ed25519:[0-9a-f]+/u;'],
    ["const K = new RegExp('^ed25519:[0-9a-f]{64}$');"],
    ['const S = { pattern: "^sha256:[0-9a-f]{64}$" };'],
    ["const P = 'sha256:(?:[0-9a-f]{2})+';"],
    ['const T = `^sha256:[0-9a-f]{${64}}$`;'],
    ["const E = '^ed25519:';"],
  ])('flags %s', (code) => {
    expect(findings(code)).toEqual(['1:wire-pattern']);
  });

  it.each([
    ["const P = 'sha256:';"],
    ["const id = 'ed25519:' + hex;"],
    ['const id = `ed25519:${hex}`;'],
    ['const d = `sha256:${"0".repeat(64)}`;'],
    ["const m = 'expected a sha256: digest';"],
    ["const t = 'helm.receipt.v1';"],
  ])('does not flag the prefix alone: %s', (code) => {
    expect(findings(code)).toEqual([]);
  });
});
