// I-SANDBOX-6 — replay determinism and conformance: every NaN a float instruction produces is the
// canonical NaN (unless the module opted out, which its handle records), so the same module and
// input give the same bits on any CPU; traps map to the spec's codes; what the spec rejects
// (SIMD globals, GC tables, extended constants, a `_start` with a signature) is refused at
// registration, not at run time.
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, SandboxError } from '../../src/index.ts';
import { GAS_EXPORT, instrumentModule } from '../../src/internal/instrument.ts';
import { body, exportEntry, moduleOf, vec } from '../helpers/shapes.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());
const LIMITS = { gas: 1_000_000, timeout_ms: 20_000, max_output_bytes: 1024 };

const CANON64 = 0x7ff8000000000000n;
const CANON32 = 0x7fc00000;
const F64_NANS = [0x7ff4000000000001n, 0xfff8000000000123n, 0x7fffffffffffffffn, 0xfff0000000000001n];
const F32_NANS = [0x7fa00001, 0xffc00123, 0x7fffffff, 0xff800001];
const ONE64 = 0x3ff0000000000000n;
const ONE32 = 0x3f800000;

const BIN = ['add', 'sub', 'mul', 'div', 'min', 'max'];
const UN = ['sqrt', 'ceil', 'floor', 'trunc', 'nearest'];
const FLOATS = `(module
  ${BIN.map(
    (op) => `
  (func (export "${op}64") (param i64 i64) (result i64)
    (i64.reinterpret_f64 (f64.${op} (f64.reinterpret_i64 (local.get 0)) (f64.reinterpret_i64 (local.get 1)))))
  (func (export "${op}32") (param i32 i32) (result i32)
    (i32.reinterpret_f32 (f32.${op} (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))`,
  ).join('')}
  ${UN.map(
    (op) => `
  (func (export "${op}64") (param i64) (result i64) (i64.reinterpret_f64 (f64.${op} (f64.reinterpret_i64 (local.get 0)))))
  (func (export "${op}32") (param i32) (result i32) (i32.reinterpret_f32 (f32.${op} (f32.reinterpret_i32 (local.get 0)))))`,
  ).join('')}
  (func (export "promote") (param i32) (result i64) (i64.reinterpret_f64 (f64.promote_f32 (f32.reinterpret_i32 (local.get 0)))))
  (func (export "demote") (param i64) (result i32) (i32.reinterpret_f32 (f32.demote_f64 (f64.reinterpret_i64 (local.get 0)))))
  (func (export "neg64") (param i64) (result i64) (i64.reinterpret_f64 (f64.neg (f64.reinterpret_i64 (local.get 0)))))
  (func (export "loop64") (param i64) (result i64) (local $x f64) (local $i i32)
    (local.set $x (f64.reinterpret_i64 (local.get 0)))
    (loop $l
      (local.set $x (f64.mul (local.get $x) (f64.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3))))
    (i64.reinterpret_f64 (local.get $x))))`;

async function floats(canonicalizeNaN?: boolean) {
  const opts = { maxMemoryPages: 1, maxTableElements: 10, importPolicy: () => true };
  const m = instrumentModule(
    await wat(FLOATS),
    canonicalizeNaN === undefined ? opts : { ...opts, canonicalizeNaN },
  );
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.bytes), {});
  (inst.exports[GAS_EXPORT] as WebAssembly.Global).value = 1n << 60n;
  return inst.exports as Record<string, (...a: Array<number | bigint>) => number | bigint>;
}

const u64 = (x: number | bigint): bigint => BigInt.asUintN(64, BigInt(x));
const u32 = (x: number | bigint): number => Number(x) >>> 0;

describe('I-SANDBOX-6: NaN canonicalization', () => {
  it('every NaN-producing f32/f64 instruction yields the canonical NaN, whatever the input payload; nothing else changes', async () => {
    const f = await floats();
    for (const nan of F64_NANS) {
      for (const op of BIN) {
        expect(u64(f[`${op}64`]?.(nan, ONE64) as bigint), `${op}64`).toBe(CANON64);
        expect(u64(f[`${op}64`]?.(ONE64, nan) as bigint), `${op}64`).toBe(CANON64);
      }
      for (const op of UN) expect(u64(f[`${op}64`]?.(nan) as bigint), `${op}64`).toBe(CANON64);
      expect(u32(f.demote?.(nan) as number)).toBe(CANON32);
      expect(u64(f.loop64?.(nan) as bigint)).toBe(CANON64);
    }
    for (const nan of F32_NANS) {
      for (const op of BIN) expect(u32(f[`${op}32`]?.(nan | 0, ONE32) as number), `${op}32`).toBe(CANON32);
      for (const op of UN) expect(u32(f[`${op}32`]?.(nan | 0) as number), `${op}32`).toBe(CANON32);
      expect(u64(f.promote?.(nan | 0) as bigint)).toBe(CANON64);
    }
    // NaNs computed from numbers (0/0, ∞−∞, sqrt(−1)): the CPU's default NaN differs by architecture
    expect(u64(f.div64?.(0n, 0n) as bigint)).toBe(CANON64);
    expect(u64(f.sub64?.(0x7ff0000000000000n, 0x7ff0000000000000n) as bigint)).toBe(CANON64);
    expect(u64(f.sqrt64?.(0xbff0000000000000n) as bigint)).toBe(CANON64);
    expect(u32(f.div32?.(0, 0) as number)).toBe(CANON32);
    // every non-NaN result and the bit-exact instructions are left alone
    expect(u64(f.add64?.(ONE64, ONE64) as bigint)).toBe(0x4000000000000000n);
    expect(u64(f.sqrt64?.(0x8000000000000000n) as bigint)).toBe(0x8000000000000000n); // −0
    expect(u64(f.min64?.(0x8000000000000000n, 0n) as bigint)).toBe(0x8000000000000000n);
    expect(u64(f.div64?.(ONE64, 0n) as bigint)).toBe(0x7ff0000000000000n); // +∞
    expect(u64(f.neg64?.(0x7ff4000000000001n) as bigint)).toBe(0xfff4000000000001n); // neg is a bit flip
    expect(u32(f.max32?.(ONE32, 0) as number)).toBe(ONE32);
  });

  it('is on by default, can be turned off, and the handle says which', async () => {
    const src = `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (f64.store (i32.const 16) (f64.div (f64.const 0) (f64.load (i32.const 100))))
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 8))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
    const bytes = await wat(src);
    const on = await sandbox.register(bytes);
    const off = await sandbox.register(bytes, { canonicalizeNaN: false });
    expect(on.canonicalize_nan).toBe(true);
    expect(off.canonicalize_nan).toBe(false);
    expect(off.id).not.toBe(on.id);
    const a = await sandbox.run(on, new Uint8Array(0), LIMITS);
    const b = await sandbox.run(on, new Uint8Array(0), LIMITS);
    expect(a.ok).toBe(true);
    expect(Buffer.from(a.stdout).readBigUInt64LE(0)).toBe(CANON64);
    expect(b.stdout).toEqual(a.stdout);
    const c = await sandbox.run(off, new Uint8Array(0), LIMITS);
    expect(c.ok).toBe(true);
    expect(c.gas_used).toBe(a.gas_used); // canonicalization is not metered
    const d = await floats(false);
    expect(u64(d.add64?.(0x7ff4000000000001n, ONE64) as bigint)).not.toBe(CANON64); // payload kept
  });
});

async function trapCode(body: string): Promise<string | undefined> {
  const h = await sandbox.register(
    await wat(`(module (memory (export "memory") 1)
      (type $v (func)) (table $t 2 10 funcref) (elem $e func $nop $nop)
      (func $nop)
      (func (export "_start") ${body}))`),
  );
  return (await sandbox.run(h, new Uint8Array(0), LIMITS)).code;
}

async function refusal(bytes: Uint8Array, message: RegExp): Promise<void> {
  const e = await sandbox.register(bytes).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SandboxError);
  expect((e as SandboxError).code).toBe('SANDBOX_INVALID_MODULE');
  expect((e as SandboxError).message).toMatch(message);
}

/** A command with a memory, `_start` (type 0) and extra sections. */
function command(
  extra: ReadonlyArray<readonly [number, readonly number[]]>,
  startType = [0x60, 0, 0],
): Uint8Array {
  const sections: Array<readonly [number, readonly number[] | Uint8Array]> = [
    [1, vec([startType])],
    [3, [1, 0]],
    [5, [1, 0x00, 1]],
    [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, 0)])],
    [10, vec([body([], [])])],
    ...extra,
  ];
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  return moduleOf(sections.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])));
}

describe('I-SANDBOX-6: conformance', () => {
  it('out-of-bounds table.get/set/fill/copy/init trap as SANDBOX_TRAP_OUT_OF_BOUNDS; call_indirect keeps its code', async () => {
    expect(await trapCode('(drop (table.get $t (i32.const 5)))')).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS');
    expect(await trapCode('(table.set $t (i32.const 5) (ref.null func))')).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS');
    expect(await trapCode('(table.fill $t (i32.const 1) (ref.null func) (i32.const 5))')).toBe(
      'SANDBOX_TRAP_OUT_OF_BOUNDS',
    );
    expect(await trapCode('(table.copy $t $t (i32.const 1) (i32.const 0) (i32.const 5))')).toBe(
      'SANDBOX_TRAP_OUT_OF_BOUNDS',
    );
    expect(await trapCode('(table.init $t $e (i32.const 1) (i32.const 0) (i32.const 2))')).toBe(
      'SANDBOX_TRAP_OUT_OF_BOUNDS',
    );
    expect(await trapCode('(call_indirect (type $v) (i32.const 5))')).toBe('SANDBOX_TRAP_INDIRECT_CALL');
    expect(await trapCode('(call_indirect (type $v) (i32.const 0))')).toBe('SANDBOX_TRAP_INDIRECT_CALL');
    expect(await trapCode('(return_call_indirect (type $v) (i32.const 5))')).toBe(
      'SANDBOX_TRAP_INDIRECT_CALL',
    );
    // a table access that succeeds leaves no trace
    expect(await trapCode('(drop (table.get $t (i32.const 1))) (unreachable)')).toBe(
      'SANDBOX_TRAP_UNREACHABLE',
    );
  });

  it('classifies out-of-bounds table traps by their site: deep in the stack, in inlined code, and per core module of a component', async () => {
    // The same leaf is first called 200 000 times in bounds (the engine optimizes and inlines it),
    // then out of bounds at the bottom of a 2 000-deep recursion.
    const deep = (access: string): string => `
      (type $v (func)) (table $t 2 10 funcref) (elem $e func $nop $nop)
      (func $nop)
      (func $leaf (param i32) ${access})
      (func $down (param i32) (param i32)
        (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)) (local.get 1)))
          (else (call $leaf (local.get 1)))))
      (func $go (export "go") (local $i i32)
        (loop $l (call $leaf (i32.and (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 200000))))
        (call $down (i32.const 2000) (i32.const 7)))`;
    const GAS = { ...LIMITS, gas: 100_000_000 };
    const TABLE_GET = '(drop (table.get $t (local.get 0)))';
    const CALL_INDIRECT = '(call_indirect (type $v) (local.get 0))';
    const core = async (access: string) =>
      sandbox.register(
        await wat(`(module (memory (export "memory") 1) ${deep(access)}
      (func (export "_start") (call $go)))`),
      );
    const run = async (h: Awaited<ReturnType<typeof core>>) =>
      (await sandbox.run(h, new Uint8Array(0), GAS)).code;
    expect(await run(await core(TABLE_GET))).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS');
    expect(await run(await core(CALL_INDIRECT))).toBe('SANDBOX_TRAP_INDIRECT_CALL');

    // A component of two core modules (glue written here in jco's calling convention): the site is
    // looked up in the module of the instance that trapped, not in the other one.
    const modA = await wat(`(module ${deep(CALL_INDIRECT)})`);
    const modB = await wat(`(module ${deep(TABLE_GET)})`);
    const glue = (
      first: string,
      second: string,
    ) => `export function instantiate(getCoreModule, imports, instantiateCore) {
      const a = instantiateCore(getCoreModule('a.core.wasm'), {});
      const b = instantiateCore(getCoreModule('b.core.wasm'), {});
      const order = { a, b };
      return { run: { run() { order.${first}.exports.go(); order.${second}.exports.go(); } } };
    }`;
    const components = createSandbox({
      componentTranspiler: async (bytes) => ({
        js: bytes[8] === 0 ? glue('a', 'b') : glue('b', 'a'),
        core_modules: { 'a.core.wasm': modA, 'b.core.wasm': modB },
        imports: [],
      }),
    });
    try {
      const header = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
      const codes: Array<string | undefined> = [];
      for (const variant of [0, 1]) {
        const h = await components.registerComponent(Uint8Array.from([...header, variant]));
        codes.push((await components.run(h, new Uint8Array(0), GAS)).code);
      }
      expect(codes).toEqual(['SANDBOX_TRAP_INDIRECT_CALL', 'SANDBOX_TRAP_OUT_OF_BOUNDS']);
    } finally {
      await components.close();
    }
  });

  it('refuses v128 globals, i31ref tables and extended constant expressions the engine would accept', async () => {
    const v128Global = command([[6, [1, 0x7b, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b]]]);
    const i31Table = command([[4, [1, 0x6c, 0x00, 0x01]]]);
    const extendedConst = command([[6, [1, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b]]]);
    for (const m of [v128Global, i31Table, extendedConst]) expect(WebAssembly.validate(m)).toBe(true);
    await refusal(v128Global, /unsupported value type 0x7b/);
    await refusal(i31Table, /unsupported table element type 0x6c/);
    await refusal(extendedConst, /extended constant expressions/);
  });

  it('refuses a _start that takes parameters or returns results at registration', async () => {
    const start = async (sig: string): Promise<Uint8Array> =>
      wat(`(module (memory (export "memory") 1) (func (export "_start") ${sig}))`);
    await refusal(await start('(param i32)'), /_start must be \(\) -> \(\), not i32->/);
    await refusal(await start('(result i32) (i32.const 0)'), /_start must be \(\) -> \(\), not ->i32/);
  });
});
