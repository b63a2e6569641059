// I-SANDBOX-5 — registration is bounded: a module is refused at registration, with a
// SandboxError(SANDBOX_INVALID_MODULE), before it can take unbounded host memory (tables,
// memories, segments, globals, functions) or unbounded registration work; instrumentation is
// linear in the module's size (a deterministic work counter, never wall-clock); nothing that
// validates escapes as a raw engine error.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSandbox, SandboxError } from '../../src/index.ts';
import { instrumentModule } from '../../src/internal/instrument.ts';
import { MODULE_LIMITS, outputBudget } from '../../src/internal/module-limits.ts';
import { ByteWriter } from '../../src/internal/wasm-binary.ts';
import {
  Bin,
  body,
  exportEntry,
  FAMILY,
  FUNCREF,
  funcType,
  I32,
  manyGrows,
  moduleOf,
  nestedCalls,
  vec,
} from '../helpers/shapes.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

const OPTS = { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: () => true };

async function refusal(p: Promise<unknown>): Promise<SandboxError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'every registration failure is a SandboxError').toBeInstanceOf(SandboxError);
  return e as SandboxError;
}

async function refused(bytes: Uint8Array, message: RegExp, options = {}): Promise<void> {
  const e = await refusal(sandbox.register(bytes, options));
  expect(e.code).toBe('SANDBOX_INVALID_MODULE');
  expect(e.message).toMatch(message);
}

/** A WASI command (`_start`, exported memory) plus extra sections, in canonical order. */
function command(extra: ReadonlyArray<readonly [number, Uint8Array | readonly number[]]>, code?: Uint8Array) {
  const sections: Array<readonly [number, Uint8Array | readonly number[]]> = [
    [1, vec([funcType([], [])])],
    [3, [1, 0]],
    [5, [1, 0x00, 1]],
    [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, 0)])],
    [10, code ?? vec([body([], [])])],
    ...extra,
  ];
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  return moduleOf(sections.slice().sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])));
}

const tables = (n: number, min: number, max?: number): Uint8Array => {
  const b = new Bin().u32(n);
  for (let i = 0; i < n; i++) {
    b.byte(FUNCREF);
    if (max === undefined) b.byte(0x00).u32(min);
    else b.byte(0x01).u32(min).u32(max);
  }
  return b.done();
};

describe('I-SANDBOX-5: registration is bounded', () => {
  it('refuses 2,000 max-size tables before instantiation, without growing host memory', async () => {
    const bytes = tables(2000, 100_000, 100_000);
    const module = command([[4, bytes]]);
    expect(module.length).toBeLessThan(20_000);
    expect(WebAssembly.validate(module)).toBe(true);
    const before = process.memoryUsage().rss;
    await refused(module, /too many tables/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('caps the number of tables and the elements of all tables together (initial and maximum)', async () => {
    await refused(command([[4, tables(MODULE_LIMITS.tables + 1, 0, 1)]]), /too many tables: 101/);
    // 11 tables without a maximum may each grow to the per-table cap: 1.1M > 1M in total
    await refused(command([[4, tables(11, 0)]]), /1100000 elements in total, over the cap of 1000000/);
    // 11 tables of 100 000 declared initial elements: each within its cap, together over the total
    await refused(command([[4, tables(11, 100_000, 100_000)]]), /over the cap of 1000000/);
    expect((await sandbox.register(command([[4, tables(10, 0)]]))).kind).toBe('wasi-preview1');
  });

  it('caps data segments, element segments and their entries, globals, functions, types, imports and exports', async () => {
    const passiveData = new Bin().u32(MODULE_LIMITS.dataSegments + 1);
    for (let i = 0; i <= MODULE_LIMITS.dataSegments; i++) passiveData.byte(0x01, 0x00);
    await refused(command([[11, passiveData.done()]]), /too many data segments/);

    const passiveElems = new Bin().u32(MODULE_LIMITS.elemSegments + 1);
    for (let i = 0; i <= MODULE_LIMITS.elemSegments; i++) passiveElems.byte(0x01, 0x00, 0x00);
    await refused(command([[9, passiveElems.done()]]), /too many element segments/);

    const manyEntries = new Bin()
      .u32(1)
      .byte(0x01, 0x00)
      .u32(MODULE_LIMITS.elemEntries + 1);
    manyEntries.repeat([0x00], MODULE_LIMITS.elemEntries + 1);
    await refused(command([[9, manyEntries.done()]]), /too many element segment entries/);

    const globals = new Bin().u32(MODULE_LIMITS.globals + 1);
    globals.repeat([I32, 0x00, 0x41, 0x00, 0x0b], MODULE_LIMITS.globals + 1);
    await refused(command([[6, globals.done()]]), /too many globals/);

    const types = new Bin().u32(MODULE_LIMITS.types + 1).repeat(funcType([], []), MODULE_LIMITS.types + 1);
    await refused(
      moduleOf([
        [1, types.done()],
        [3, [1, 0]],
        [7, vec([exportEntry('_start', 0, 0)])],
        [10, vec([body([], [])])],
      ]),
      /too many types/,
    );

    const exports = [exportEntry('_start', 0, 0)];
    for (let i = 0; i < MODULE_LIMITS.exports; i++) exports.push(exportEntry(`e${i}`, 0, 0));
    await refused(exportsModule(exports), /too many exports/);

    const imports = new Bin().u32(MODULE_LIMITS.imports + 1);
    for (let i = 0; i <= MODULE_LIMITS.imports; i++)
      imports.name('wasi_snapshot_preview1').name('sched_yield').byte(0x00).u32(1);
    await refused(
      moduleOf([
        [1, vec([funcType([], []), funcType([], [I32])])],
        [2, imports.done()],
        [3, [1, 0]],
        [5, [1, 0x00, 1]],
        [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, MODULE_LIMITS.imports + 1)])],
        [10, vec([body([], [])])],
      ]),
      /too many imports/,
    );
  });

  it('refuses modules at the engine limits with SandboxError, never a raw CompileError', async () => {
    // 50 000 locals plus a loop: the gas local would be the 50 001st
    const loop = [0x03, 0x40, 0x0b];
    await refused(command([], vec([body([[50_000, I32]], loop)])), /too many locals: 50000/);
    // 1 000 000 functions (plus the appended helper would pass the engine's limit)
    const n = 1_000_000;
    const funcs = new Bin().u32(n).repeat([0x00], n);
    const code = new Bin().u32(n).repeat([0x02, 0x00, 0x0b], n);
    await refused(
      moduleOf([
        [1, vec([funcType([], [])])],
        [3, funcs.done()],
        [5, [1, 0x00, 1]],
        [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, 0)])],
        [10, code.done()],
      ]),
      /too many functions/,
    );
    // 1 000 000 globals
    const globals = new Bin().u32(n).repeat([I32, 0x00, 0x41, 0x00, 0x0b], n);
    await refused(command([[6, globals.done()]]), /too many globals/);
    // a function body near the engine's 7 654 321-byte limit (it grows when instrumented)
    const huge = new Bin().repeat([0x41, 0x00, 0x1a], 2_540_000).done(); // i32.const 0; drop
    await refused(command([], vec([body([], huge)])), /after instrumentation \(limit 7000000\)/);
    // one under the limit that grows past it (every f64.sqrt gets a NaN-canonicalization call)
    const sqrt = new Bin()
      .repeat([0x44, 0, 0, 0, 0, 0, 0, 0, 0], 1)
      .repeat([0x9f], 2_400_000)
      .byte(0x1a)
      .done();
    await refused(command([], vec([body([], sqrt)])), /bytes after instrumentation \(limit 7000000\)/);
    // a memory cap past 4 GiB acts as 4 GiB (the engine's memory32 limit)
    const h = await sandbox.register(
      await wat(`(module (memory (export "memory") 1) (func (export "_start")))`),
      {
        maxMemoryBytes: 4 * 1024 ** 3 + 65_536,
      },
    );
    expect(h.max_memory_bytes).toBe(4 * 1024 ** 3 + 65_536);
    // and any compile failure of the instrumented bytes is the package's error
    const spy = vi.spyOn(WebAssembly, 'compile').mockRejectedValueOnce(new WebAssembly.CompileError('boom'));
    try {
      const e = await refusal(
        sandbox.register(await wat(`(module (memory (export "memory") 2) (func (export "_start")))`)),
      );
      expect(e.code).toBe('SANDBOX_INVALID_MODULE');
      expect(e.message).toMatch(/does not compile/);
    } finally {
      spy.mockRestore();
    }
  });

  it('bounds the instrumented size: past 4 × the module + 1 MiB registration is refused', async () => {
    // 1 MB of `i32.const 0; memory.grow 0; drop`: each grows ~8.6× (length charge, grow record)
    await refused(manyGrows(200_000), /registration size budget of \d+ bytes/);
  });

  it('refuses a body that grows past its limit before writing it: output stays within the size budget', () => {
    // 370 000 empty loops in one 1.1 MB body: each loop's gas charge (16 bytes) is only known at
    // the loop's end, so the rewrite pass cannot count it as it goes; the body would become
    // 7.0 MB, over the 7 MB body limit and over the module's 5.5 MB budget.
    const loops = new Bin().repeat([0x03, 0x40, 0x0b], 370_000).done();
    const m = command([], vec([body([], loops)]));
    // every buffer the instrumenter's writers allocate, by size
    const sizes: number[] = [];
    const proto = ByteWriter.prototype as unknown as { resize(size: number): void };
    const resize = proto.resize;
    const spied = vi.spyOn(proto, 'resize').mockImplementation(function (this: unknown, size: number) {
      sizes.push(size);
      resize.call(this, size);
    });
    try {
      expect(() => instrumentModule(m, OPTS)).toThrow(/function 0 is 7\d{6} bytes after instrumentation/);
    } finally {
      spied.mockRestore();
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(outputBudget(m.length));
  });

  it('instruments in linear time: the work counter doubles when the module doubles, for every adversarial shape', () => {
    // (both forms: a component core module's first passes through gas-import.ts, counted too)
    for (const shape of FAMILY) {
      for (const sharedGas of [false, true]) {
        const small = shape.build(40_000);
        const large = shape.build(80_000);
        const a = instrumentModule(small, { ...OPTS, sharedGas });
        const b = instrumentModule(large, { ...OPTS, sharedGas });
        const bytesRatio = large.length / small.length;
        const what = `${shape.name}${sharedGas ? ' (component)' : ''}`;
        expect(b.work / a.work, what).toBeGreaterThan(bytesRatio * 0.9);
        expect(b.work / a.work, what).toBeLessThan(bytesRatio * 1.1);
        // and within the documented budget: 8 units per source byte + 4096
        expect(b.work, what).toBeLessThanOrEqual(8 * large.length + 4096);
      }
    }
  });

  it('registers the 20 000-deep, 40 000-call module (quadratic before)', async () => {
    const m = nestedCalls(20_000, 40_000);
    expect(m.length).toBeGreaterThan(139_000);
    const inst = instrumentModule(m, OPTS);
    expect(inst.work).toBeLessThanOrEqual(8 * m.length + 4096);
    const h = await sandbox.register(m);
    const r = await sandbox.run(h, new Uint8Array(0), {
      gas: 1_000_000,
      timeout_ms: 20_000,
      max_output_bytes: 0,
    });
    expect(r.ok).toBe(true);
  });
});

describe('I-SANDBOX-5: a cached instrumented module is re-loaded only under its pinned digest', () => {
  it('skips instrumentation for the exact bytes the pin names and refuses anything else', async () => {
    const src = await wat(`(module (memory (export "memory") 1) (func (export "_start") (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 9))))))`);
    const h = await sandbox.register(src);
    const bytes = sandbox.instrumentedBytes(h);
    const limits = { gas: 1000, timeout_ms: 20_000, max_output_bytes: 0 };
    const fresh = createSandbox();
    try {
      const again = await fresh.registerInstrumented(bytes, h);
      expect(again).toEqual(h);
      expect(await fresh.registerInstrumented(bytes, h)).toBe(again);
      expect(await fresh.run(again, new Uint8Array(0), limits)).toMatchObject(
        await sandbox.run(h, new Uint8Array(0), limits).then(({ wall_ms: _, ...r }) => r),
      );
      const tampered = bytes.slice();
      tampered[tampered.length - 2] ^= 1;
      expect((await refusal(fresh.registerInstrumented(tampered, h))).message).toMatch(/digest/);
      // a pin whose digest matches, but of bytes that are not an instrumented WASI command
      const raw = await wat(`(module (import "env" "f" (func)) (memory (export "memory") 1)
        (global (export "__helm_gas") (mut i64) (i64.const 0))
        (global (export "__helm_grow_failed") (mut i32) (i32.const 0)) (func (export "_start")))`);
      const pinOf = async (b: Uint8Array) => ({ ...h, id: `sha256:${await sha(b)}` });
      expect((await refusal(fresh.registerInstrumented(raw, await pinOf(raw)))).message).toMatch(/import/);
      const unmetered = await wat(`(module (memory (export "memory") 1) (func (export "_start")))`);
      expect((await refusal(fresh.registerInstrumented(unmetered, await pinOf(unmetered)))).message).toMatch(
        /metering/,
      );
      const small = { ...(await pinOf(bytes)), id: h.id, max_memory_bytes: 0 };
      const other = createSandbox();
      try {
        expect((await refusal(other.registerInstrumented(bytes, small))).message).toMatch(/memory maximum/);
        expect(() => other.instrumentedBytes(h)).toThrow(SandboxError);
      } finally {
        await other.close();
      }
    } finally {
      await fresh.close();
    }
  });
});

async function sha(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

function exportsModule(exports: readonly Uint8Array[]): Uint8Array {
  return moduleOf([
    [1, vec([funcType([], [])])],
    [3, [1, 0]],
    [7, vec(exports)],
    [10, vec([body([], [])])],
  ]);
}
