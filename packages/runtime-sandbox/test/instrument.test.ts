// Unit tests of the instrumenter; the per-site size bounds below are part of I-SANDBOX-5 (sandbox.md §5).
import { describe, expect, it } from 'vitest';
import { GAS_EXPORT, GROW_FAILED_EXPORT, instrumentModule } from '../src/internal/instrument.ts';
import { ByteReader, ByteWriter, ModuleFormatError, sLebLength } from '../src/internal/wasm-binary.ts';
import { deepLoops, loopBranches, loopCalls, loopTableGets, moduleOf } from './helpers/shapes.ts';
import { wat } from './helpers/wat.ts';

// Bytes inserted around a table instruction that can trap out of bounds (none: its trap is
// classified by the opcode at the trap site, guest-run.ts tableTrapCode).
const TABLE_OP_BYTES = 0;
const allowAll = { maxMemoryPages: 4, maxTableElements: 10, importPolicy: () => true };

async function instrument(source: string, options = allowAll) {
  return instrumentModule(await wat(source), options);
}

function run(bytes: Uint8Array, gas: bigint, imports: WebAssembly.Imports = {}) {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  const g = instance.exports[GAS_EXPORT] as WebAssembly.Global;
  g.value = gas;
  return { instance, gas: g };
}

describe('instrumentModule', () => {
  it('charges the function-entry region once and each loop region per iteration', async () => {
    // function region: i32.const, local.set, block, loop, end(block), end(func) = 6;
    // loop region: local.get, i32.const, i32.add, local.tee, i32.const, i32.lt_u, br_if, end = 8
    const m = await instrument(`(module (func (export "f") (local $i i32)
      (local.set $i (i32.const 0))
      (block (loop $l
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10)))))))`);
    const { instance, gas } = run(m.bytes, 1000n);
    (instance.exports.f as () => void)();
    expect(1000n - (gas.value as bigint)).toBe(6n + 10n * 8n);
  });

  it('keeps the counter exact across calls, returns, tail calls and branches out of loop functions', async () => {
    const m = await instrument(`(module
      (func $leaf (result i32) (i32.const 1))
      (func (export "f") (local $i i32)
        (loop $l
          (drop (call $leaf))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10)))))
      (func (export "g") (param $n i32) (result i32)
        (loop $l
          (if (i32.eqz (local.get $n)) (then (return (i32.const 7))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l))
        (i32.const 0))
      (func (export "h") (param $n i32)
        (loop $l
          (br_if 1 (i32.eqz (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
      (func (export "t") (param $n i32)
        (loop $l
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_table 1 $l (local.get $n))))
      (func (export "tc") (result i32)
        (loop $l (br_if $l (i32.const 0)))
        (return_call $leaf)))`);
    const cost = (name: string, arg?: number): bigint => {
      const { instance, gas } = run(m.bytes, 10_000n);
      (instance.exports[name] as (n?: number) => unknown)(arg);
      return 10_000n - (gas.value as bigint);
    };
    expect(cost('f')).toBe(2n + 10n * (10n + 2n));
    expect(cost('g', 3)).toBe(3n + 4n * 12n);
    expect(cost('h', 2)).toBe(2n + 3n * 9n);
    expect(cost('t', 3)).toBe(2n + 3n * 7n);
    expect(cost('tc')).toBe(3n + 3n + 2n);
    // exhaustion inside a callee of a loop function is seen by the caller's global
    const { instance, gas } = run(m.bytes, 50n);
    expect(() => (instance.exports.f as () => void)()).toThrow(/unreachable/);
    expect(gas.value as bigint).toBeLessThan(0n);
  });

  it('inserts at most a constant number of bytes per call site, branch, loop header and table op', () => {
    // The class of the old per-call-site growth (a gas local published before every call and
    // reloaded after it, published before every branch out of the function): the bytes the
    // instrumenter adds per site, measured as the growth of the output between n and 2n sites of
    // each adversarial shape, minus the growth of the source. Calls and branches get nothing.
    const inserted = (build: (n: number) => Uint8Array, n: number): number => {
      const size = (k: number) => {
        const src = build(k);
        return { src: src.length, out: instrumentModule(src, allowAll).bytes.length };
      };
      const a = size(n);
      const b = size(2 * n);
      // (rounded: a region's cost and the size prefixes grow by a LEB128 byte now and then)
      return Math.round((b.out - a.out - (b.src - a.src)) / n);
    };
    const perSite = {
      'call in a loop function': inserted(loopCalls, 2000),
      'branch out of a loop function': inserted(loopBranches, 2000),
      'nested loop header (with a call)': inserted(deepLoops, 2000),
      'table read': inserted(loopTableGets, 2000),
    };
    expect(perSite).toEqual({
      'call in a loop function': 0,
      'branch out of a loop function': 0,
      'nested loop header (with a call)': 16, // the charge of docs/spec/sandbox.md §5, inline
      'table read': TABLE_OP_BYTES,
    });
  });

  it('lets callers pre-pay loop-free internal functions, which charge only before their own calls', async () => {
    const m = await instrument(`(module
      (type $i (func (param i32) (result i32)))
      (table funcref (elem $fib $leaf))
      (func $fib (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func $leaf (param i32) (result i32) (local.get 0))
      (func (export "f") (param i32) (result i32) (call $fib (local.get 0)))
      (func (export "ind") (param i32) (result i32) (call_indirect (type $i) (local.get 0) (i32.const 1)))
      (func $a (call $b))
      (func $b (call $a))
      (func (export "forever") (call $a)))`);
    const cost = (name: string, arg?: number): bigint => {
      const { instance, gas } = run(m.bytes, 100_000n);
      (instance.exports[name] as (n?: number) => unknown)(arg);
      return 100_000n - (gas.value as bigint);
    };
    // $fib costs 17 instructions; f pays its own 3 plus 17 for the call; each non-leaf $fib
    // invocation pre-pays 2 × 17 in its else-arm (fib(5) has 7 of them); leaves pay nothing more.
    expect(cost('f', 5)).toBe(3n + 17n + 7n * 34n);
    expect(cost('f', 1)).toBe(3n + 17n);
    // an indirect call pre-pays the most expensive pre-paid function (17)
    expect(cost('ind', 9)).toBe(4n + 17n);
    // unbounded recursion through pre-paid functions still runs out of gas
    const { instance, gas } = run(m.bytes, 1000n);
    expect(() => (instance.exports.forever as () => void)()).toThrow(/unreachable/);
    expect(gas.value as bigint).toBeLessThan(0n);
  });

  it('traps with unreachable exactly when the budget goes negative', async () => {
    const m = await instrument(`(module (func (export "f") (loop $l (br $l))))`);
    const { instance, gas } = run(m.bytes, 1000n);
    expect(() => (instance.exports.f as () => void)()).toThrow(WebAssembly.RuntimeError);
    expect(gas.value as bigint).toBeLessThan(0n);
    // the budget is exact: 2 at entry (loop, end) + 2 per iteration (br, end)
    const again = run(m.bytes, 2n + 2n * 498n);
    expect(() => (again.instance.exports.f as () => void)()).toThrow();
    expect(again.gas.value).toBe(-2n);
  });

  it('records a failed memory.grow in the exported flag and keeps grow semantics', async () => {
    const m = await instrument(`(module (memory 1 100) (func (export "g") (param i32) (result i32)
      (memory.grow (local.get 0))))`);
    expect(m.memory).toEqual({ min: 1, max: 4 });
    const { instance, gas } = run(m.bytes, 100_000n);
    const g = instance.exports.g as (n: number) => number;
    const failed = instance.exports[GROW_FAILED_EXPORT] as WebAssembly.Global;
    const spent = (f: () => void): bigint => {
      const before = gas.value as bigint;
      f();
      return before - (gas.value as bigint);
    };
    // 3 instructions, plus 4096 per page when the growth succeeds (docs/spec/sandbox.md)
    expect(spent(() => expect(g(2)).toBe(1))).toBe(3n + 2n * 4096n);
    expect(failed.value).toBe(0);
    expect(spent(() => expect(g(2)).toBe(-1))).toBe(3n);
    expect(failed.value).toBe(1);
    expect(spent(() => expect(g(1)).toBe(3))).toBe(3n + 4096n);
    expect(failed.value).toBe(1);
  });

  it('caps memories and tables, defined or imported', async () => {
    const m = await instrument(`(module
      (import "env" "mem" (memory 1))
      (import "env" "tab" (table 1 funcref))
      (table 2 1000 funcref))`);
    expect(m.memory).toEqual({ min: 1, max: 4 });
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const tab = new WebAssembly.Table({ element: 'anyfunc', initial: 1, maximum: 10 });
    expect(() => run(m.bytes, 1n, { env: { mem, tab } })).not.toThrow();
    const unbounded = new WebAssembly.Memory({ initial: 1 });
    expect(() => run(m.bytes, 1n, { env: { mem: unbounded, tab } })).toThrow(WebAssembly.LinkError);
    await expect(instrument(`(module (memory 5))`)).rejects.toThrow(/exceeds the cap/);
    await expect(instrument(`(module (table 11 funcref))`)).rejects.toThrow(/exceeds the cap/);
    await expect(instrument(`(module (import "e" "m" (memory 5)))`)).rejects.toThrow(/exceeds the cap/);
  });

  it('rejects features it does not meter or support', async () => {
    const cases: Array<[string, RegExp]> = [
      [`(module (func (drop (v128.const i64x2 0 0))))`, /unsupported/],
      [`(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))`, /unsupported opcode 0xfe/],
      [`(module (memory i64 1))`, /unsupported memory limits/],
      [`(module (tag $e) (func (throw $e)))`, /unsupported section id 13/],
      [`(module (func (export "__helm_gas")))`, /reserved/],
    ];
    for (const [source, message] of cases) {
      await expect(instrument(source), source).rejects.toThrow(message);
    }
  });

  it('turns a start section into an export the host calls after setting the budget', async () => {
    const m =
      await instrument(`(module (global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 5))) (start $s)
      (func (export "get") (result i32) (global.get $g)))`);
    const { instance, gas } = run(m.bytes, 100n);
    expect((instance.exports.get as () => number)()).toBe(0);
    (instance.exports.__helm_start as () => void)();
    expect((instance.exports.get as () => number)()).toBe(5);
    expect(gas.value).toBe(100n - 3n - 2n - 2n);
  });

  it('rejects shared memories', () => {
    const shared = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 3, 1, 1]);
    expect(() => instrumentModule(shared, allowAll)).toThrow(/shared memory/);
    const sharedImport = new Uint8Array([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 9, 1, 1, 0x61, 1, 0x62, 2, 3, 1, 1,
    ]);
    expect(() => instrumentModule(sharedImport, allowAll)).toThrow(/shared memory/);
    const twoMemories = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 1, 0, 1]);
    expect(() => instrumentModule(twoMemories, allowAll)).toThrow(/multiple memories/);
    const importedAndDefined = new Uint8Array([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 8, 1, 1, 0x61, 1, 0x62, 2, 0, 1, 5, 3, 1, 0, 1,
    ]);
    expect(() => instrumentModule(importedAndDefined, allowAll)).toThrow(/multiple memories/);
    const multiMemoryMemarg = new Uint8Array([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 10, 11, 1, 9, 0, 0x41,
      0, 0x28, 0x40, 0, 0, 0x1a, 0x0b,
    ]);
    expect(() => instrumentModule(multiMemoryMemarg, allowAll)).toThrow(/multi-memory/);
    const table64 = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 4, 4, 1, 0x70, 4, 1]);
    expect(() => instrumentModule(table64, allowAll)).toThrow(/unsupported table limits/);
  });

  it('applies the import policy with function signatures', async () => {
    const seen: string[] = [];
    const m = await instrument(
      `(module (import "m" "f" (func (param i32 i64) (result f64))) (import "m" "g" (global i32)))`,
      {
        ...allowAll,
        importPolicy: (imp) => {
          seen.push(`${imp.module}.${imp.name}:${imp.kind}:${imp.signature ?? ''}`);
          return true;
        },
      },
    );
    expect(seen).toEqual(['m.f:func:i32,i64->f64', 'm.g:global:']);
    expect(m.imports).toHaveLength(2);
    expect(m.functionCount).toBe(1);
    await expect(
      instrument(`(module (import "m" "f" (func)))`, { ...allowAll, importPolicy: () => false }),
    ).rejects.toThrow(/not provided/);
  });

  it('accepts the supported post-MVP instruction set and produces a valid module', async () => {
    const m = await instrument(`(module
      (type $t (func (param i32) (result i32 i32)))
      (memory 1) (data $d "abc") (table $tab 2 funcref) (elem $e func $f)
      (global $g (mut i32) (i32.const 0))
      (func $f (type $t) (local.get 0) (local.get 0))
      (func (export "all") (param $x i32) (param $d f64) (result i32) (local $r externref)
        (block $b (result i32) (i32.const 0) (br_table $b $b (local.get $x)))
        (drop)
        (if (local.get $x) (then nop) (else nop))
        (drop (select (i32.const 1) (i32.const 2) (local.get $x)))
        (drop (select (result i32) (i32.const 1) (i32.const 2) (local.get $x)))
        (drop (i32.trunc_sat_f64_s (local.get $d)))
        (drop (i32.extend8_s (local.get $x)))
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
        (data.drop $d)
        (memory.copy (i32.const 0) (i32.const 1) (i32.const 1))
        (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))
        (table.init $tab $e (i32.const 0) (i32.const 0) (i32.const 1))
        (elem.drop $e)
        (table.copy $tab $tab (i32.const 0) (i32.const 1) (i32.const 1))
        (drop (table.grow $tab (ref.null func) (i32.const 1)))
        (drop (table.size $tab))
        (table.fill $tab (i32.const 0) (ref.func $f) (i32.const 1))
        (table.set $tab (i32.const 0) (table.get $tab (i32.const 1)))
        (drop (ref.is_null (ref.null extern)))
        (local.set $r (ref.null extern))
        (drop (memory.size))
        (global.set $g (i32.const 1))
        (drop (f32.const 1.5)) (drop (f64.const 2.5)) (drop (i64.const -5))
        (drop (call_indirect $tab (type $t) (i32.const 3) (i32.const 0)))
        (unreachable))
      (func $tail (param i32) (result i32 i32) (return_call $f (local.get 0)))
      (func $tail2 (param i32) (result i32 i32) (return_call_indirect $tab (type $t) (local.get 0) (i32.const 0)))
      (func (result i32) (return (i32.const 1))))`);
    expect(WebAssembly.validate(m.bytes)).toBe(true);
    expect(m.exports.map((e) => e.name)).toEqual(['all']);
    const { instance } = run(m.bytes, 10_000n);
    expect(() => (instance.exports.all as (x: number, d: number) => number)(1, 1)).toThrow(/null function/);
  });

  it('parses every global, element and data segment form and keeps them', async () => {
    const m = await instrument(`(module
      (import "e" "g" (global $ig externref)) (import "e" "n" (global $in i32))
      (memory 1) (table $t 4 funcref) (table $x 4 externref)
      (global i64 (i64.const -5)) (global f32 (f32.const 1.5)) (global f64 (f64.const 2.5))
      (global funcref (ref.func $f)) (global externref (ref.null extern)) (global i32 (global.get $in))
      (func $f)
      (elem (i32.const 0) func $f)
      (elem func $f)
      (elem (table $t) (global.get $in) func $f)
      (elem declare func $f)
      (elem (i32.const 1) funcref (ref.func $f))
      (elem funcref (ref.null func))
      (elem (table $x) (i32.const 0) externref (ref.null extern))
      (elem declare funcref (ref.func $f))
      (data (i32.const 0) "a") (data "b"))`);
    expect(WebAssembly.validate(m.bytes)).toBe(true);
    // data segment with an explicit memory index (flags 2)
    const flags2 = moduleOf([
      [5, [1, 0, 1]],
      [11, [1, 2, 0, 0x41, 0, 0x0b, 1, 0x61]],
    ]);
    expect(WebAssembly.validate(instrumentModule(flags2, allowAll).bytes)).toBe(true);
  });

  it('rejects malformed or unsupported sections it parses', () => {
    const cases: Array<[Array<readonly [number, readonly number[]]>, RegExp]> = [
      [[[6, [1, 0x7f, 0x02, 0x41, 0, 0x0b]]], /global mutability/],
      [[[6, [1, 0x7f, 0x00, 0x01, 0x0b]]], /unsupported instruction 0x1 in a constant expression/],
      [[[6, [1, 0x7e, 0x00, 0x42, 0, 0x42, 0, 0x7c, 0x0b]]], /extended constant/],
      [[[1, [1, 0x5f, 0]]], /unsupported type form/],
      [[[9, [1, 8]]], /element segment flags 8/],
      [[[9, [1, 5, 0x70, 1, 0x41, 0, 0x0b]]], /unsupported element expression/],
      [[[9, [1, 1, 0x01, 0]]], /unsupported element kind/],
      [[[9, [1, 5, 0x6c, 0]]], /unsupported element type 0x6c/],
      [[[11, [1, 3]]], /data segment flags 3/],
      [[[11, [1, 2, 1, 0x41, 0, 0x0b, 0]]], /only memory 0/],
      [[[2, [1, 1, 0x61, 1, 0x62, 4, 0, 0]]], /unsupported import kind 4/],
      [[[2, [1, 1, 0x61, 1, 0x62, 0, 5]]], /import type index out of range/],
      [[[2, [2, 1, 0x61, 1, 0x62, 2, 0, 1, 1, 0x61, 1, 0x63, 2, 0, 1]]], /multiple memories/],
      [
        [
          [4, [1, 0x70, 0x00, 0x01]],
          [2, [1, 1, 0x61, 1, 0x62, 1, 0x64, 0x70, 0, 1]],
        ],
        /table element type 0x64/,
      ],
    ];
    for (const [sections, message] of cases) {
      const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
      const bytes = moduleOf([...sections].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])));
      expect(() => instrumentModule(bytes, allowAll), String(message)).toThrow(message);
    }
  });

  it('rejects malformed bytes', () => {
    const bad = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]),
      new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 0]),
    ];
    for (const b of bad) expect(() => instrumentModule(b, allowAll)).toThrow(ModuleFormatError);
  });

  it('drops custom sections and is deterministic', async () => {
    const bytes = await wat(`(module (func $named (export "f")))`);
    const a = instrumentModule(bytes, allowAll).bytes;
    const b = instrumentModule(bytes, allowAll).bytes;
    expect(a).toEqual(b);
    expect(new TextDecoder().decode(a)).not.toContain('named');
  });
});

describe('wasm-binary', () => {
  it('round-trips LEB128 and rejects overlong encodings', () => {
    const w = new ByteWriter()
      .u32(0)
      .u32(127)
      .u32(128)
      .u32(0xffffffff)
      .s64(-1n)
      .s64(63n)
      .s64(64n)
      .s32(-64)
      .name('é');
    const r = new ByteReader(w.toBytes());
    expect([r.u32(), r.u32(), r.u32(), r.u32()]).toEqual([0, 127, 128, 0xffffffff]);
    expect(r.s33()).toBe(-1);
    expect(r.s33()).toBe(63);
    expect(r.s33()).toBe(64);
    expect(r.s33()).toBe(-64);
    expect(r.name()).toBe('é');
    expect(r.done).toBe(true);
    expect(() => new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f])).u32()).toThrow(
      /out of range/,
    );
    expect(() => new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80])).s33()).toThrow(
      /too long/,
    );
    expect(() => new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80])).skipSigned(32)).toThrow(
      /too long/,
    );
    expect(() => new ByteReader(new Uint8Array([1, 0xff])).name()).toThrow(/UTF-8/);
    expect(() => new ByteReader(new Uint8Array([5])).bytesOf(2)).toThrow(/unexpected end/);
  });
});

describe('ByteWriter', () => {
  it('writes the same signed LEB128 with sNum as with s64 (int32 path and the general one), of the length sLebLength says', () => {
    const values = [0, -0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8193, 2 ** 31 - 1, -(2 ** 31)];
    for (const v of [2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3, -(2 ** 45), Number.MAX_SAFE_INTEGER])
      values.push(v);
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const magnitude = 2 ** (seed % 53);
      values.push(Math.floor(((seed >>> 8) / 2 ** 24) * magnitude) * (seed & 1 ? -1 : 1));
    }
    for (const v of values) {
      const bytes = new ByteWriter().s64(BigInt(v)).toBytes();
      expect(new ByteWriter().sNum(v).toBytes(), String(v)).toEqual(bytes);
      // (and the length the instrumenter predicts a body's size with)
      expect(sLebLength(v), String(v)).toBe(bytes.length);
    }
  });

  it('refuses to write a cost that is not a safe integer (instead of looping for ever)', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, -Number.POSITIVE_INFINITY, 0.5, 2 ** 53]) {
      expect(() => new ByteWriter().sNum(v), String(v)).toThrow(RangeError);
    }
  });

  it('writes a size prefix as a minimal LEB128 whatever size was expected', () => {
    for (const size of [0, 5, 127, 128, 300, 16_383, 16_384, 70_000, 2_097_152]) {
      for (const expected of [0, 127, 128, 16_384, 2_097_152, 2 ** 28]) {
        const w = new ByteWriter().u8(0xaa);
        const at = w.beginSized(expected);
        for (let i = 0; i < size; i++) w.u8(i & 0xff);
        expect(w.endSized(at, expected)).toBe(size);
        const r = new ByteReader(w.toBytes());
        expect(r.u8()).toBe(0xaa);
        expect(r.u32()).toBe(size);
        expect(r.pos).toBe(1 + new ByteWriter().u32(size).length);
        const content = r.bytesOf(size);
        expect(
          content.every((b, i) => b === (i & 0xff)),
          `${size}/${expected}`,
        ).toBe(true);
        expect(r.done).toBe(true);
      }
    }
  });
});
