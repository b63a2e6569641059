import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, decodeJsonOutput, encodeJsonInput, SandboxError, systemClock } from '../src/index.ts';
import { WorkerPool } from '../src/internal/pool.ts';
import { randomSeed } from '../src/internal/sandbox.ts';
import { dec, enc, FD_WRITE } from './helpers/modules.ts';
import * as P from './helpers/programs.ts';
import { wat } from './helpers/wat.ts';

const sandbox = createSandbox({ poolSize: 2 });
afterAll(() => sandbox.close());

const LIMITS = { gas: 50_000_000, timeout_ms: 10_000, max_output_bytes: 1 << 20 };
const register = async (source: string, maxMemoryBytes?: number) =>
  sandbox.register(await wat(source), maxMemoryBytes === undefined ? {} : { maxMemoryBytes });

async function expectRejected(promise: Promise<unknown>, code: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  expect((err as SandboxError).code).toBe(code);
}

describe('sandbox (worker pool)', () => {
  it('runs a real computation with a known answer', async () => {
    const h = await register(P.CRC32);
    expect(h).toMatchObject({ kind: 'wasi-preview1', max_memory_bytes: 64 * 1024 * 1024 });
    expect(h.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await sandbox.run(h, enc('123456789'), LIMITS);
    expect(r).toMatchObject({ ok: true, exit_code: 0, peak_memory_bytes: 2 * 65536 });
    expect(dec(r.stdout)).toBe('cbf43926');
    expect(r.wall_ms).toBeGreaterThanOrEqual(0);
  });

  it('passes JSON through stdin/stdout', async () => {
    const h = await register(P.ECHO);
    const r = await sandbox.run(h, encodeJsonInput({ b: [1, 2], a: 'x' }), LIMITS);
    expect(dec(r.stdout)).toBe('{"a":"x","b":[1,2]}');
    expect(decodeJsonOutput(r.stdout)).toEqual({ a: 'x', b: [1, 2] });
    expect(() => decodeJsonOutput(enc('{oops'))).toThrow(SandboxError);
    expect(() => decodeJsonOutput(new Uint8Array([0xff]))).toThrow(/UTF-8 JSON/);
    // a value JCS cannot encode is the sandbox's own error, not the crypto package's
    for (const bad of [Number.NaN, { f: () => 1 }, 1n]) {
      let e: unknown;
      try {
        encodeJsonInput(bad);
      } catch (error) {
        e = error;
      }
      expect(e).toBeInstanceOf(SandboxError);
      expect((e as SandboxError).code).toBe('SANDBOX_INVALID_ARGUMENT');
    }
  });

  it('kills an infinite loop at the deadline and keeps serving', async () => {
    const h = await register(P.INFINITE_LOOP);
    const r = await sandbox.run(h, new Uint8Array(0), {
      ...LIMITS,
      gas: Number.MAX_SAFE_INTEGER,
      timeout_ms: 150,
    });
    expect(r).toMatchObject({
      ok: false,
      code: 'ERR_COMPUTE_TIME_EXHAUSTED',
      gas_used: null,
      exit_code: null,
    });
    const again = await sandbox.run(await register(P.EXIT_WITH(0)), new Uint8Array(0), LIMITS);
    expect(again.ok).toBe(true);
  });

  it('stops an infinite loop by gas, deterministically', async () => {
    const h = await register(P.INFINITE_LOOP);
    const r = await sandbox.run(h, new Uint8Array(0), { ...LIMITS, gas: 1_000_000 });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', gas_used: 1_000_000 });
  });

  it('gives the same result or the same trap point on every run near the gas boundary', async () => {
    const h = await register(P.COUNT_TO(5000));
    const first = await sandbox.run(h, new Uint8Array(0), LIMITS);
    expect(first.ok).toBe(true);
    const need = first.gas_used as number;
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        sandbox.run(h, new Uint8Array(0), { ...LIMITS, gas: need - (i % 2) }),
      ),
    );
    const { wall_ms: _w, ...firstRest } = first;
    for (const [i, r] of runs.entries()) {
      const { wall_ms: _, ...rest } = r;
      if (i % 2 === 0) expect(rest).toEqual(firstRest);
      expect(r.ok).toBe(i % 2 === 0);
      expect(r.gas_used).toBe(need - (i % 2));
      expect(r.code).toBe(i % 2 === 0 ? undefined : 'ERR_COMPUTE_GAS_EXHAUSTED');
    }
  });

  it('caps linear memory (memory.grow bomb)', async () => {
    const h = await register(P.MEMORY_BOMB, 4 * 65536);
    const r = await sandbox.run(h, new Uint8Array(0), LIMITS);
    expect(r).toMatchObject({
      ok: false,
      code: 'ERR_COMPUTE_MEMORY_EXHAUSTED',
      peak_memory_bytes: 4 * 65536,
    });
    await expectRejected(
      register(`(module (memory (export "memory") 5) (func (export "_start")))`, 4 * 65536),
      'SANDBOX_INVALID_MODULE',
    );
  });

  it('maps deep recursion to a stack-overflow trap', async () => {
    const h = await register(P.DEEP_RECURSION);
    const r = await sandbox.run(h, new Uint8Array(0), { ...LIMITS, gas: 1e12 });
    expect(r).toMatchObject({ ok: false, code: 'SANDBOX_TRAP_STACK_OVERFLOW' });
  });

  it('caps output while running (flood)', async () => {
    const h = await register(P.OUTPUT_FLOOD);
    const r = await sandbox.run(h, new Uint8Array(0), { ...LIMITS, gas: 1e12, max_output_bytes: 100_000 });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    expect(r.stdout.length).toBe(100_000);
  });

  it('I-SANDBOX-1: denies files, sockets, preopens, signals, env and args from inside the guest', async () => {
    const r = await sandbox.run(await register(P.ESCAPE_ATTEMPTS), new Uint8Array(0), LIMITS);
    expect(r.ok).toBe(true);
    // path_open ENOTCAPABLE, fd_prestat_get EBADF, sock_accept/sock_send ENOTCAPABLE, proc_raise EPERM,
    // fd_read(3) EBADF, 0 environment variables, 0 arguments
    expect([...r.stdout]).toEqual([76, 8, 76, 76, 63, 8, 0, 0]);
  });

  it('serves virtual clocks and call-derived randomness (replayable)', async () => {
    const h = await register(P.ENTROPY_AND_CLOCKS);
    const a = await sandbox.run(h, enc('x'), { ...LIMITS, virtual_time_ms: 1_700_000_000_000 });
    const b = await sandbox.run(h, enc('x'), { ...LIMITS, virtual_time_ms: 1_700_000_000_000 });
    const c = await sandbox.run(h, enc('y'), LIMITS);
    expect(a.stdout).toEqual(b.stdout);
    expect(a.stdout.subarray(0, 16)).not.toEqual(c.stdout.subarray(0, 16));
    const view = new DataView(a.stdout.buffer, a.stdout.byteOffset);
    expect(view.getBigUint64(16, true)).toBe(1_700_000_000_000n * 1_000_000n + 1000n);
    const cView = new DataView(c.stdout.buffer, c.stdout.byteOffset);
    expect(cView.getBigUint64(16, true)).toBe(1000n);
    expect(randomSeed(h.id, enc('x'))).toHaveLength(32);
  });

  it('rejects disallowed imports before execution', async () => {
    await expectRejected(
      register(
        `(module (import "env" "fetch" (func)) (memory (export "memory") 1) (func (export "_start")))`,
      ),
      'SANDBOX_VIOLATION',
    );
    await expectRejected(
      register(
        `(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (memory (export "memory") 1) (func (export "_start")))`,
      ),
      'SANDBOX_VIOLATION',
    );
    await expectRejected(
      register(
        `(module (import "wasi_snapshot_preview1" "sock_open" (func (param i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))`,
      ),
      'SANDBOX_VIOLATION',
    );
    await expectRejected(
      register(`(module (import "wasi_snapshot_preview1" "memory" (memory 1)) (func (export "_start")))`),
      'SANDBOX_VIOLATION',
    );
  });

  it('rejects malformed, oversized and incomplete modules', async () => {
    await expectRejected(
      sandbox.register(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 99])),
      'SANDBOX_INVALID_MODULE',
    );
    await expectRejected(sandbox.register(enc('not wasm')), 'SANDBOX_INVALID_MODULE');
    await expectRejected(sandbox.register('x' as unknown as Uint8Array), 'SANDBOX_INVALID_MODULE');
    const small = createSandbox({ maxModuleBytes: 8, poolSize: 1 });
    await expectRejected(small.register(await wat(P.EXIT_WITH(0))), 'SANDBOX_INVALID_MODULE');
    await small.close();
    await expectRejected(register(`(module (memory (export "memory") 1))`), 'SANDBOX_INVALID_MODULE');
    await expectRejected(register(`(module ${FD_WRITE} (func (export "_start")))`), 'SANDBOX_INVALID_MODULE');
    await expectRejected(
      register(
        `(module (memory (export "memory") 1) (func (export "_start") (drop (v128.const i64x2 0 0))))`,
      ),
      'SANDBOX_INVALID_MODULE',
    );
    await expectRejected(register(P.EXIT_WITH(0), 1000), 'SANDBOX_INVALID_ARGUMENT');
  });

  it('caches by the digest of the instrumented bytes', async () => {
    const bytes = await wat(P.EXIT_WITH(0));
    const a = await sandbox.register(bytes);
    const b = await sandbox.register(bytes);
    const c = await sandbox.register(bytes, { maxMemoryBytes: 65536 });
    expect(b).toBe(a);
    expect(c.id).not.toBe(a.id);
    expect(c.source_digest).toBe(a.source_digest);
  });

  it('validates its options', () => {
    for (const poolSize of [0, 65, 1.5]) {
      expect(() => createSandbox({ poolSize })).toThrow(SandboxError);
    }
  });

  it('validates run arguments and handles', async () => {
    const h = await register(P.EXIT_WITH(0));
    const bad = [
      { ...LIMITS, gas: 0 },
      { ...LIMITS, timeout_ms: 1.5 },
      { ...LIMITS, max_output_bytes: -1 },
      { ...LIMITS, virtual_time_ms: -1 },
    ];
    for (const limits of bad)
      await expectRejected(sandbox.run(h, new Uint8Array(0), limits), 'SANDBOX_INVALID_ARGUMENT');
    await expectRejected(sandbox.run(h, 'x' as unknown as Uint8Array, LIMITS), 'SANDBOX_INVALID_ARGUMENT');
    await expectRejected(
      sandbox.run({ ...h, id: `sha256:${'0'.repeat(64)}` }, new Uint8Array(0), LIMITS),
      'SANDBOX_UNKNOWN_MODULE',
    );
    const err = new SandboxError('SANDBOX_UNKNOWN_MODULE', 'x');
    expect(err.reason).toBe('SANDBOX_INVALID_MODULE');
  });

  it('queues calls beyond the pool size and refuses work after close', async () => {
    const sb = createSandbox({ poolSize: 1, clock: systemClock() });
    const h = await sb.register(await wat(P.COUNT_TO(1000)));
    const results = await Promise.all([1, 2, 3].map(() => sb.run(h, new Uint8Array(0), LIMITS)));
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    await sb.close();
    await expectRejected(sb.run(h, new Uint8Array(0), LIMITS), 'SANDBOX_CLOSED');
    await expectRejected(sb.register(new Uint8Array(0)), 'SANDBOX_CLOSED');
  });

  it('bounds the host side with worker resource limits', async () => {
    const sb = createSandbox({
      workerResourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    const h = await sb.register(await wat(P.BYTE_FLOOD));
    const r = await sb.run(h, new Uint8Array(0), { gas: 1e12, timeout_ms: 20_000, max_output_bytes: 1e9 });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_MEMORY_EXHAUSTED', gas_used: null });
    await sb.close();
  });
});

describe('WorkerPool', () => {
  it('does not respawn a worker that cannot even load, except on demand', async () => {
    const url = new URL(`data:text/javascript,${encodeURIComponent("throw new Error('broken entry')")}`);
    const pool = new WorkerPool({ size: 1, resourceLimits: {}, url });
    expect(pool.spawned).toBe(0);
    expect(await pool.run({}, 5000)).toMatchObject({ kind: 'crashed' });
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.spawned).toBeLessThanOrEqual(3);
    await pool.close();
  });

  it('reports a host-side failure of a call as a crash and closes cleanly with queued work', async () => {
    const pool = new WorkerPool({ size: 1, resourceLimits: {} });
    const bad = pool.run({ gas: undefined } as never, 5000);
    const queued = pool.run({ gas: undefined } as never, 5000);
    expect(await bad).toMatchObject({ kind: 'crashed', out_of_memory: false });
    const busy = pool.run(
      {
        module: new WebAssembly.Module(await wat(P.INFINITE_LOOP)),
        gas: 1,
        stdin: new Uint8Array(0),
      } as never,
      5000,
    );
    const waiting = pool.run({ gas: undefined } as never, 5000);
    await queued;
    await pool.close();
    expect(await busy).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
    expect(await waiting).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
  });
});

describe('createSandbox and run refuse malformed arguments with SandboxError', () => {
  it('options, register options, pins and limits', async () => {
    for (const bad of [null, 5, { maxMemoryBytes: 1000 }, { maxTableElements: -1 }, { maxModuleBytes: 1.5 }])
      expect(() => createSandbox(bad as never)).toThrow(SandboxError);
    const sb = createSandbox();
    try {
      const src = await wat('(module (memory (export "memory") 1) (func (export "_start")))');
      await expect(sb.register(src, 'x' as never)).rejects.toBeInstanceOf(SandboxError);
      await expect(sb.register(src, { canonicalizeNaN: 1 as never })).rejects.toBeInstanceOf(SandboxError);
      const h = await sb.register(src);
      await expect(
        sb.registerInstrumented(sb.instrumentedBytes(h), { ...h, id: 'sha256:x' }),
      ).rejects.toBeInstanceOf(SandboxError);
      await expect(sb.run(h, new Uint8Array(0), null as never)).rejects.toBeInstanceOf(SandboxError);
    } finally {
      await sb.close();
    }
  });
});
