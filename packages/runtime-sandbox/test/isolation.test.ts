// The isolation port: the default in-thread implementation, and the sandbox's use of an injected one.
import { describe, expect, it } from 'vitest';
import {
  createSandbox,
  guestResourceLimits,
  type IsolatedCall,
  type IsolatedModule,
  type IsolationPort,
  THREAD_ISOLATION_MODULE,
  threadIsolation,
} from '../src/index.ts';
import { BULK_COSTS, instrumentModule } from '../src/internal/instrument.ts';
import { preview1ImportPolicy } from '../src/internal/sandbox.ts';
import { COMPONENT_BYTES, fixtureTranspiler } from './helpers/component.ts';
import { dec } from './helpers/modules.ts';
import * as P from './helpers/programs.ts';
import { wat } from './helpers/wat.ts';

const call = (module: IsolatedModule): IsolatedCall => ({
  module,
  stdin: new Uint8Array(0),
  gas: 1_000_000,
  maxOutputBytes: 1024,
  seed: new Uint8Array(32),
  virtualTimeMs: 0,
});

describe('threadIsolation', () => {
  it('fills in the default worker limits and names its own module', () => {
    expect(guestResourceLimits()).toEqual({
      maxOldGenerationSizeMb: 64,
      maxYoungGenerationSizeMb: 16,
      codeRangeSizeMb: 64,
      stackSizeMb: 4,
    });
    expect(guestResourceLimits({ stackSizeMb: 1 }).stackSizeMb).toBe(1);
    expect(THREAD_ISOLATION_MODULE).toMatch(/\/isolation\.(ts|js)$/);
  });

  it('reports a module that does not compile, at prepare and at run, and does not cache the failure', async () => {
    const port = threadIsolation();
    const bad: IsolatedModule = { kind: 'core', id: 'bad', bytes: new Uint8Array([1, 2, 3]) };
    await expect(port.prepare(bad)).rejects.toThrow();
    expect(await port.run(call(bad), 5000)).toMatchObject({ kind: 'crashed', message: /compile failed/ });
    await port.close();
  });

  it('answers calls after close as closed, including one whose module was still compiling', async () => {
    const port = threadIsolation();
    const module: IsolatedModule = { kind: 'core', id: 'x', bytes: await wat(P.EXIT_WITH(0)) };
    const pending = port.run(call(module), 5000);
    await port.close();
    expect(await pending).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
    expect(await port.run(call(module), 5000)).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
  });

  it('runs with no deadline timer when the caller enforces the deadline (timeout Infinity)', async () => {
    const instrumented = instrumentModule(await wat(P.COUNT_TO(10)), {
      maxMemoryPages: 16,
      maxTableElements: 10,
      importPolicy: preview1ImportPolicy,
    });
    const port = threadIsolation({ size: 1, resourceLimits: {} });
    const module: IsolatedModule = { kind: 'core', id: 'count', bytes: instrumented.bytes };
    expect(await port.run(call(module), Number.POSITIVE_INFINITY)).toMatchObject({
      kind: 'done',
      outcome: { ok: true },
    });
    await port.close();
  });
});

describe('an injected isolation port', () => {
  it('receives every pinned module once, every call as data, and is closed with the sandbox', async () => {
    const seen: { prepared: IsolatedModule[]; calls: Array<[IsolatedCall, number]>; closed: number } = {
      prepared: [],
      calls: [],
      closed: 0,
    };
    const inner = threadIsolation();
    const port: IsolationPort = {
      async prepare(module) {
        seen.prepared.push(module);
        await inner.prepare(module);
      },
      run(c, timeoutMs) {
        seen.calls.push([c, timeoutMs]);
        return inner.run(c, timeoutMs);
      },
      async close() {
        seen.closed++;
        await inner.close();
      },
    };
    const sb = createSandbox({ isolation: port, componentTranspiler: fixtureTranspiler });
    const h = await sb.register(await wat(P.ECHO));
    expect(await sb.register(await wat(P.ECHO))).toBe(h);
    const r = await sb.run(h, new TextEncoder().encode('{"a":1}'), {
      gas: 1_000_000,
      timeout_ms: 1234,
      max_output_bytes: 100,
    });
    expect(dec(r.stdout)).toBe('{"a":1}');
    const c = await sb.registerComponent(COMPONENT_BYTES);
    expect(seen.prepared.map((m) => [m.kind, m.id])).toEqual([
      ['core', h.id],
      ['component', c.id],
    ]);
    const component = seen.prepared[1] as IsolatedModule & { kind: 'component' };
    expect(Object.keys(component.core_modules).length).toBeGreaterThan(1);
    expect(component.glue.length).toBeGreaterThan(0);
    expect(seen.calls).toHaveLength(1);
    expect(seen.calls[0]?.[1]).toBe(1234);
    expect(seen.calls[0]?.[0]).toMatchObject({ gas: 1_000_000, maxOutputBytes: 100, virtualTimeMs: 0 });
    await sb.close();
    expect(seen.closed).toBe(1);
  });

  it('maps the port outcomes to results', async () => {
    const outcomes = [
      { kind: 'timeout' },
      { kind: 'crashed', out_of_memory: true, message: 'oom' },
      { kind: 'crashed', out_of_memory: false, message: 'gone' },
    ] as const;
    let i = 0;
    const sb = createSandbox({
      isolation: {
        prepare: async () => {},
        run: async () => outcomes[i++] as (typeof outcomes)[number],
        close: async () => {},
      },
    });
    const h = await sb.register(await wat(P.EXIT_WITH(0)));
    const limits = { gas: 10, timeout_ms: 10, max_output_bytes: 0 };
    const codes = [];
    for (let k = 0; k < 3; k++) codes.push((await sb.run(h, new Uint8Array(0), limits)).code);
    expect(codes).toEqual(['ERR_COMPUTE_TIME_EXHAUSTED', 'ERR_COMPUTE_MEMORY_EXHAUSTED', 'INTERNAL_ERROR']);
    await sb.close();
  });
});

describe('threadIsolation close()', () => {
  it('returns even when a worker does not stop (a guest the engine does not interrupt)', async () => {
    // A loop around one long memory.fill: V8 does not act on terminate() for a long while.
    const instrumented = instrumentModule(
      await wat(`(module (memory (export "memory") 1024)
        (func (export "_start") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x2000000)) (br $l))))`),
      { maxMemoryPages: 1024, maxTableElements: 10, importPolicy: preview1ImportPolicy },
    );
    const port = threadIsolation();
    const module: IsolatedModule = { kind: 'core', id: 'fill', bytes: instrumented.bytes };
    // Gas for ~300 fills (~1 s): the guest ends by itself soon after the test, not never.
    const gas = 300 * (0x2000000 >> BULK_COSTS.byteShift);
    const pending = port.run({ ...call(module), gas }, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await port.close();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await pending).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
  });
});
