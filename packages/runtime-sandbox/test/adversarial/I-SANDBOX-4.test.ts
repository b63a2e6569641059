// I-SANDBOX-4 — gas bounds work: a constant gas budget never buys unbounded bulk work. Every
// bulk instruction (memory.fill/copy/init/grow, table.fill/copy/init/grow) is charged by its
// length operand before it runs, in every kind of function, exactly as docs/spec/sandbox.md
// §"Instruction costs" says.
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { GAS_EXPORT, instrumentModule } from '../../src/internal/instrument.ts';
import { wat } from '../helpers/wat.ts';

const OPTS = { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: () => true };
const BIG = 1n << 60n;

const compiled = new Map<string, WebAssembly.Module>();
async function instance(source: string): Promise<WebAssembly.Instance> {
  let module = compiled.get(source);
  if (module === undefined) {
    module = new WebAssembly.Module(instrumentModule(await wat(source), OPTS).bytes);
    compiled.set(source, module);
  }
  return new WebAssembly.Instance(module, {});
}

/** Gas one call of `name(...args)` takes (budget large enough). */
function gasOf(inst: WebAssembly.Instance, name: string, ...args: number[]): bigint {
  const g = inst.exports[GAS_EXPORT] as WebAssembly.Global;
  g.value = BIG;
  (inst.exports[name] as (...a: number[]) => unknown)(...args);
  return BIG - (g.value as bigint);
}

// One exported function per bulk instruction, each in the three metering schemes: exported
// loop-free (self-charging, global counter), with a loop (local counter) and internal loop-free
// (pre-paid by its caller, charging the dynamic part itself).
const OPS: ReadonlyArray<readonly [string, string]> = [
  ['fill', '(memory.fill (i32.const 0) (i32.const 7) (local.get 0))'],
  ['copy', '(memory.copy (i32.const 0) (i32.const 65536) (local.get 0))'],
  ['init', '(memory.init $d (i32.const 0) (i32.const 0) (local.get 0))'],
  ['tfill', '(table.fill $t (i32.const 0) (ref.null func) (local.get 0))'],
  ['tcopy', '(table.copy $t $t (i32.const 0) (i32.const 30000) (local.get 0))'],
  ['tinit', '(table.init $t $e (i32.const 0) (i32.const 0) (local.get 0))'],
  ['grow', '(drop (memory.grow (local.get 0)))'],
  ['tgrow', '(drop (table.grow $t (ref.null func) (local.get 0)))'],
];
const DATA = 'x'.repeat(70_000);
const ELEMS = Array.from({ length: 70_000 }, () => '$nop').join(' ');
const BULK = `(module
  (memory (export "memory") 2 1024) (table $t 100000 100000 funcref) (table $u (export "u") 1 50 funcref)
  (data $d "${DATA}") (elem $e func ${ELEMS})
  (func $nop)
  ${OPS.map(
    ([name, body]) => `
  (func (export "${name}") (param i32) ${body})
  (func (export "${name}_loop") (param i32) (local $i i32)
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1))))
    ${body})
  (func $${name}_pre (param i32) ${body})
  (func (export "${name}_pre") (param i32) (call $${name}_pre (local.get 0)))`,
  ).join('')}
  (func (export "ugrow") (param i32) (drop (table.grow $u (ref.null func) (local.get 0)))))`;

/** The documented dynamic cost of each instruction for length n, given the current sizes. */
function expected(name: string, n: number, memPages: number, uSize: number): bigint {
  switch (name) {
    case 'fill':
    case 'copy':
    case 'init':
      return BigInt(n >>> 4);
    case 'grow':
      return memPages + n <= 1024 ? BigInt(n) << 12n : 0n;
    case 'ugrow':
      return uSize + n <= 50 ? BigInt(n) * 8n : 0n;
    case 'tgrow':
      return 0n; // the table is at its maximum: every growth fails and costs nothing extra
    case 'tinit':
      return BigInt(n) * 16n; // table.init also decodes each element from its segment
    default:
      return BigInt(n) * 8n;
  }
}

describe('I-SANDBOX-4: gas bounds bulk work', () => {
  it('charges every bulk instruction exactly its documented length cost, in every metering scheme', async () => {
    for (const scheme of ['', '_loop', '_pre']) {
      for (const [name] of [...OPS, ['ugrow', '']] as const) {
        if (name === 'ugrow' && scheme !== '') continue;
        const fn = `${name}${scheme}`;
        const inst = await instance(BULK);
        const base = gasOf(inst, fn, 0);
        for (const n of [1, 15, 16, 17, 1000, 4096, 65_536]) {
          const pages = (inst.exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
          const uSize = (inst.exports.u as WebAssembly.Table).length;
          const gas = gasOf(inst, fn, n);
          expect(gas - base, `${fn}(${n})`).toBe(expected(name, n, pages, uSize));
        }
      }
    }
  });

  it('charges each bulk instruction its own cost when others share its function, in any order', async () => {
    // Every ordered pair of the length-charged instructions, in the three metering schemes: the
    // charge computed for one must never be reused for another of a different cost.
    const charged = OPS.filter(([name]) => name !== 'grow' && name !== 'tgrow');
    const pairs = charged.flatMap(([a, bodyA]) =>
      charged.map(([b, bodyB]) => [`${a}_${b}`, a, b, bodyA + bodyB]),
    );
    const src = `(module
      (memory (export "memory") 2 1024) (table $t 100000 100000 funcref)
      (data $d "${DATA}") (elem $e func ${ELEMS})
      (func $nop)
      ${pairs
        .map(
          ([fn, , , body]) => `
      (func (export "${fn}") (param i32) ${body})
      (func (export "${fn}_loop") (param i32) (local $i i32)
        (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1))))
        ${body})
      (func $${fn}_pre (param i32) ${body})
      (func (export "${fn}_pre") (param i32) (call $${fn}_pre (local.get 0)))`,
        )
        .join('')})`;
    const inst = await instance(src);
    for (const [fn, a, b] of pairs) {
      for (const scheme of ['', '_loop', '_pre']) {
        const base = gasOf(inst, `${fn}${scheme}`, 0);
        for (const n of [1, 17, 4096]) {
          const want = expected(a as string, n, 0, 0) + expected(b as string, n, 0, 0);
          expect(gasOf(inst, `${fn}${scheme}`, n) - base, `${fn}${scheme}(${n})`).toBe(want);
        }
      }
    }
  });

  it('never does bulk work worth more than 16 bytes or 1/8 element per unit of gas', async () => {
    const inst = await instance(BULK);
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % 65_537;
    };
    for (let i = 0; i < 200; i++) {
      const n = next();
      expect(gasOf(inst, 'fill', n)).toBeGreaterThanOrEqual(BigInt(Math.floor(n / 16) + 1));
      expect(gasOf(inst, 'copy', n)).toBeGreaterThanOrEqual(BigInt(Math.floor(n / 16) + 1));
      expect(gasOf(inst, 'tfill', n % 50_000)).toBeGreaterThanOrEqual(BigInt(8 * (n % 50_000) + 1));
    }
  });

  it('charges before the work: an unaffordable fill writes nothing and exhausts the budget', async () => {
    const inst = await instance(BULK);
    const g = inst.exports[GAS_EXPORT] as WebAssembly.Global;
    g.value = 1000n; // a 64 KiB fill needs 4096 + its instruction costs
    expect(() => (inst.exports.fill as (n: number) => void)(65_536)).toThrow(/unreachable/);
    expect(g.value as bigint).toBeLessThan(0n);
    const mem = new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer);
    expect(mem[0]).toBe(0);
    expect(mem[65_535]).toBe(0);
    expect(mem.some((b) => b !== 0)).toBe(false);
  });

  it('a constant budget cannot buy repeated 64 MiB fills', async () => {
    const src = `(module (memory (export "memory") 1024)
      (func (export "_start") (local $i i32)
        (loop $l
          (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x4000000))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))))`;
    const inst = await instance(src);
    const g = inst.exports[GAS_EXPORT] as WebAssembly.Global;
    g.value = 1_000_000n;
    expect(() => (inst.exports._start as () => void)()).toThrow(/unreachable/);
    expect(g.value as bigint).toBeLessThan(0n);
    // through the sandbox: exhaustion, with gas_used = the budget
    const sb = createSandbox();
    try {
      const h = await sb.register(await wat(src));
      const r = await sb.run(h, new Uint8Array(0), {
        gas: 1_000_000,
        timeout_ms: 20_000,
        max_output_bytes: 0,
      });
      expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', gas_used: 1_000_000 });
      // 20 fills of 64 MiB need at least 20 × 2^22 gas
      const enough = await sb.run(h, new Uint8Array(0), {
        gas: 20 * 2 ** 22 + 1000,
        timeout_ms: 20_000,
        max_output_bytes: 0,
      });
      expect(enough.ok).toBe(true);
      expect(enough.gas_used).toBeGreaterThanOrEqual(20 * 2 ** 22);
    } finally {
      await sb.close();
    }
  });
});
