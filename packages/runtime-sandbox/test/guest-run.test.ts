import { describe, expect, it } from 'vitest';
import {
  classifyTrap,
  type GuestRequest,
  instantiationFailure,
  runGuest,
  tableTrapCode,
  tableTrapSite,
} from '../src/internal/guest-run.ts';
import { instrumentModule } from '../src/internal/instrument.ts';
import { preview1ImportPolicy } from '../src/internal/sandbox.ts';
import { compiled, dec, enc } from './helpers/modules.ts';
import * as P from './helpers/programs.ts';
import { wat } from './helpers/wat.ts';

async function run(source: string, over: Partial<GuestRequest> = {}) {
  return runGuest({
    module: await compiled(source),
    stdin: new Uint8Array(0),
    gas: 10_000_000,
    maxOutputBytes: 1 << 16,
    seed: new Uint8Array(32),
    virtualTimeMs: 0,
    ...over,
  });
}

describe('runGuest (in-process)', () => {
  it('computes a known answer (CRC-32 of stdin)', async () => {
    const r = await run(P.CRC32, { stdin: enc('The quick brown fox jumps over the lazy dog') });
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
    expect(dec(r.stdout)).toBe('414fa339');
    expect(r.gas_used).toBeGreaterThan(1000);
    expect(r.peak_memory_bytes).toBe(2 * 65536);
  });

  it('runs a start function after the budget is set, metered like the rest', async () => {
    const src = `(module (memory (export "memory") 1) (global $g (mut i32) (i32.const 0))
      (func $init (global.set $g (i32.const 1)))
      (start $init)
      (func (export "_start") (if (i32.eqz (global.get $g)) (then unreachable))))`;
    const r = await run(src);
    // init: i32.const, global.set, end = 3; _start: global.get, i32.eqz, if, unreachable, end, end = 6
    expect(r).toMatchObject({ ok: true, gas_used: 3 + 6 });
    expect(await run(src, { gas: 2 })).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
  });

  it('maps proc_exit codes', async () => {
    expect(await run(P.EXIT_WITH(0))).toMatchObject({ ok: true, exit_code: 0 });
    const r = await run(P.EXIT_WITH(3));
    expect(r).toMatchObject({ ok: false, code: 'SANDBOX_EXIT_NONZERO', exit_code: 3 });
  });

  it('stops at the gas budget with the exact same trap point every time', async () => {
    const ok = await run(P.COUNT_TO(100), { gas: 1_000_000 });
    expect(ok.ok).toBe(true);
    const exact = await run(P.COUNT_TO(100), { gas: ok.gas_used });
    expect(exact).toMatchObject({ ok: true, gas_used: ok.gas_used });
    const short = await run(P.COUNT_TO(100), { gas: ok.gas_used - 1 });
    expect(short).toMatchObject({
      ok: false,
      code: 'ERR_COMPUTE_GAS_EXHAUSTED',
      gas_used: ok.gas_used - 1,
      exit_code: null,
    });
  });

  it('reports memory exhaustion when a failed grow is followed by a trap or non-zero exit', async () => {
    const bomb = await run(P.MEMORY_BOMB);
    expect(bomb).toMatchObject({
      ok: false,
      code: 'ERR_COMPUTE_MEMORY_EXHAUSTED',
      peak_memory_bytes: 16 * 65536,
    });
    const recovered = await run(P.GROW_AND_RECOVER);
    expect(recovered).toMatchObject({ ok: true, peak_memory_bytes: 65536 });
    const exits = await run(`(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
      (memory (export "memory") 1) (func (export "_start") (drop (memory.grow (i32.const 99999))) (call $e (i32.const 1))))`);
    expect(exits).toMatchObject({ ok: false, code: 'ERR_COMPUTE_MEMORY_EXHAUSTED', exit_code: 1 });
  });

  it('maps engine traps to stable codes', async () => {
    const cases: Array<[string, string]> = [
      ['(unreachable)', 'SANDBOX_TRAP_UNREACHABLE'],
      ['(drop (i32.load (i32.const 70000)))', 'SANDBOX_TRAP_OUT_OF_BOUNDS'],
      ['(drop (i32.div_s (i32.const 1) (i32.const 0)))', 'SANDBOX_TRAP_DIVIDE_BY_ZERO'],
      ['(drop (i32.rem_u (i32.const 1) (i32.const 0)))', 'SANDBOX_TRAP_DIVIDE_BY_ZERO'],
      ['(drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))', 'SANDBOX_TRAP_INTEGER_OVERFLOW'],
      ['(drop (i32.trunc_f64_s (f64.const nan)))', 'SANDBOX_TRAP_INVALID_CONVERSION'],
      ['(call_indirect (type $v) (i32.const 0))', 'SANDBOX_TRAP_INDIRECT_CALL'],
      ['(call_indirect (type $v) (i32.const 5))', 'SANDBOX_TRAP_INDIRECT_CALL'],
    ];
    for (const [body, code] of cases) {
      expect(await run(P.TRAP(body)), body).toMatchObject({ ok: false, code, exit_code: null });
    }
    expect(await run(P.DEEP_RECURSION, { gas: 1e12 })).toMatchObject({ code: 'SANDBOX_TRAP_STACK_OVERFLOW' });
  });

  it('classifies unknown errors as a generic trap', () => {
    expect(classifyTrap(new WebAssembly.RuntimeError('something new'))).toBe('SANDBOX_TRAP');
    expect(classifyTrap(new RangeError('Invalid array length'))).toBe('SANDBOX_TRAP');
    expect(classifyTrap('x')).toBe('SANDBOX_TRAP');
  });

  it('reports the site of an out-of-bounds table trap in the module bytes, in process', async () => {
    for (const [body, opcode] of [
      ['(drop (table.get 0 (i32.const 5)))', 0x25],
      ['(call_indirect (type $v) (i32.const 5))', 0x11],
    ] as const) {
      const bytes = instrumentModule(await wat(P.TRAP(body)), {
        maxMemoryPages: 16,
        maxTableElements: 1000,
        importPolicy: preview1ImportPolicy,
      }).bytes;
      const out = runGuest({
        module: new WebAssembly.Module(bytes),
        stdin: new Uint8Array(0),
        gas: 1000,
        maxOutputBytes: 0,
        seed: new Uint8Array(32),
        virtualTimeMs: 0,
      });
      expect(out.code).toBe('SANDBOX_TRAP_INDIRECT_CALL'); // (the port decides, from the site)
      const site = out.table_trap_site as { module: string | null; offset: number };
      expect(site.module).toBeNull();
      expect(bytes[site.offset]).toBe(opcode);
    }
  });

  it('classifies an out-of-bounds table trap by the opcode at its site, and only that trap', () => {
    const at = (...bytes: number[]) => tableTrapCode(Uint8Array.from([0x00, ...bytes]), 1);
    expect(at(0x25, 0x00)).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS'); // table.get
    expect(at(0x26, 0x00)).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS'); // table.set
    for (const sub of [12, 14, 17]) expect(at(0xfc, sub)).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS');
    expect(at(0xfc, 0x91, 0x00)).toBe('SANDBOX_TRAP_OUT_OF_BOUNDS'); // table.fill, non-minimal LEB128
    expect(at(0xfc, 0x10, 0x00)).toBe('SANDBOX_TRAP_INDIRECT_CALL'); // table.size cannot trap
    expect(at(0x11, 0x00, 0x00)).toBe('SANDBOX_TRAP_INDIRECT_CALL'); // call_indirect
    expect(at(0x13, 0x00, 0x00)).toBe('SANDBOX_TRAP_INDIRECT_CALL'); // return_call_indirect
    // only the engine's "table index" trap has a site; another message or error has none
    const anyInstance = () => null;
    expect(tableTrapSite(new WebAssembly.RuntimeError('unreachable'), anyInstance)).toBeUndefined();
    expect(tableTrapSite(new Error('table index is out of bounds'), anyInstance)).toBeUndefined();
    // a JS-created error has no wasm frame: no instance of ours, no site
    expect(tableTrapSite(new WebAssembly.RuntimeError('table index is out of bounds'), () => undefined)).toBe(
      undefined,
    );
  });

  it('caps output while the guest writes', async () => {
    const r = await run(P.OUTPUT_FLOOD, { maxOutputBytes: 10_000 });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    expect(r.stdout).toHaveLength(10_000);
  });

  it('fails closed when instantiation fails', async () => {
    const link = await run(P.EXIT_WITH(0), {
      module: new WebAssembly.Module(
        new Uint8Array([
          0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 7, 1, 1, 0x61, 1, 0x62, 0, 0,
        ]),
      ),
    });
    expect(link).toMatchObject({ ok: false, code: 'SANDBOX_VIOLATION', gas_used: 0 });
    const segment = await run(
      `(module (memory (export "memory") 1) (data (i32.const 65535) "ab") (func (export "_start")))`,
    );
    expect(segment).toMatchObject({ ok: false, code: 'SANDBOX_TRAP_OUT_OF_BOUNDS' });
    const noGlobals = await run(P.EXIT_WITH(0), {
      module: new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])),
    });
    expect(noGlobals).toMatchObject({ ok: false, code: 'SANDBOX_VIOLATION' });
    expect(instantiationFailure(new RangeError('Out of memory: Cannot allocate Wasm memory'))).toBe(
      'ERR_COMPUTE_MEMORY_EXHAUSTED',
    );
    expect(instantiationFailure(new Error('other'))).toBe('SANDBOX_TRAP');
  });

  it('denies the outside world from inside a guest', async () => {
    const r = await run(P.ESCAPE_ATTEMPTS);
    expect(r.ok).toBe(true);
    expect([...r.stdout]).toEqual([76, 8, 76, 76, 63, 8, 0, 0]);
  });

  it('gives deterministic entropy and virtual clocks', async () => {
    const a = await run(P.ENTROPY_AND_CLOCKS, { virtualTimeMs: 5 });
    const b = await run(P.ENTROPY_AND_CLOCKS, { virtualTimeMs: 5 });
    const c = await run(P.ENTROPY_AND_CLOCKS, { virtualTimeMs: 5, seed: new Uint8Array(32).fill(1) });
    expect(a.stdout).toEqual(b.stdout);
    expect(a.stdout.subarray(0, 16)).not.toEqual(c.stdout.subarray(0, 16));
    const v = new DataView(a.stdout.buffer, a.stdout.byteOffset);
    expect(v.getBigUint64(16, true)).toBe(5_000_000n + 1000n);
    expect(v.getBigUint64(24, true)).toBe(2000n);
  });
});
