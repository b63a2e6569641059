import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, SandboxError, type TranspiledComponent } from '../src/index.ts';
import { type InstantiateComponent, runComponent } from '../src/internal/component-run.ts';
import { instrumentModule } from '../src/internal/instrument.ts';
import { createPreview2Host, PREVIEW2_INTERFACES, unversioned } from '../src/internal/preview2-host.ts';
import { ExitSignal, OutputLimitSignal } from '../src/internal/wasi-preview1.ts';
import { COMPONENT_BYTES, FIXTURE, fixtureTranspiler, GLUE_URL } from './helpers/component.ts';
import { dec, enc } from './helpers/modules.ts';
import { wat } from './helpers/wat.ts';

const LIMITS = { gas: 10_000_000, timeout_ms: 10_000, max_output_bytes: 1 << 16 };
const sandbox = createSandbox({ poolSize: 1, componentTranspiler: fixtureTranspiler });
afterAll(() => sandbox.close());

async function rejection(p: Promise<unknown>): Promise<SandboxError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SandboxError);
  return e as SandboxError;
}

describe('WASI preview2 component (jco)', () => {
  it('runs the component in its own worker with the deny-by-default preview2 host', async () => {
    const h = await sandbox.registerComponent(COMPONENT_BYTES);
    expect(h.kind).toBe('wasi-preview2');
    const r = await sandbox.run(h, enc('hello, component'), LIMITS);
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
    // the component sees no environment variables
    expect(dec(r.stdout)).toBe('HELLO, COMPONENTenv=0');
    expect(r.gas_used).toBeGreaterThan(0);
    expect(r.peak_memory_bytes).toBeGreaterThan(0);
    const again = await sandbox.run(h, enc('abc'), LIMITS);
    expect(dec(again.stdout)).toBe('ABCenv=0');
    expect(await sandbox.registerComponent(COMPONENT_BYTES)).toBe(h);
  });

  it('meters the component and caps its output', async () => {
    const h = await sandbox.registerComponent(COMPONENT_BYTES);
    const r = await sandbox.run(h, enc('x'.repeat(5000)), { ...LIMITS, gas: 2000 });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    const o = await sandbox.run(h, enc('y'.repeat(5000)), { ...LIMITS, max_output_bytes: 100 });
    expect(o).toMatchObject({ ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    expect(o.stdout).toHaveLength(100);
  });

  it('fails closed on registration problems', async () => {
    expect((await rejection(createSandbox({ poolSize: 1 }).registerComponent(COMPONENT_BYTES))).code).toBe(
      'SANDBOX_INVALID_MODULE',
    );
    expect(
      (
        await rejection(
          sandbox.registerComponent(FIXTURE.core_modules['upper-component.core.wasm'] as Uint8Array),
        )
      ).code,
    ).toBe('SANDBOX_INVALID_MODULE');
    const withSockets = createSandbox({
      poolSize: 1,
      componentTranspiler: async () => ({
        ...FIXTURE,
        imports: [...FIXTURE.imports, 'wasi:sockets/tcp@0.2.3'],
      }),
    });
    expect((await rejection(withSockets.registerComponent(COMPONENT_BYTES))).code).toBe('SANDBOX_VIOLATION');
    const failing = createSandbox({
      poolSize: 1,
      componentTranspiler: async () => {
        throw new Error('bad component');
      },
    });
    expect((await rejection(failing.registerComponent(COMPONENT_BYTES))).code).toBe('SANDBOX_INVALID_MODULE');
    const badCore = createSandbox({
      poolSize: 1,
      componentTranspiler: async (): Promise<TranspiledComponent> => ({
        ...FIXTURE,
        core_modules: { ...FIXTURE.core_modules, 'x.wasm': new Uint8Array([1, 2, 3]) },
      }),
    });
    expect((await rejection(badCore.registerComponent(COMPONENT_BYTES))).code).toBe('SANDBOX_INVALID_MODULE');
    await Promise.all([withSockets.close(), failing.close(), badCore.close()]);
  });
});

describe('runComponent (in-process)', async () => {
  const { instantiate } = (await import(GLUE_URL.href)) as { instantiate: InstantiateComponent };
  const modules = Object.fromEntries(
    Object.entries(FIXTURE.core_modules).map(([name, bytes]) => [
      name,
      new WebAssembly.Module(
        instrumentModule(bytes, {
          maxMemoryPages: 1024,
          maxTableElements: 1000,
          importPolicy: () => true,
          sharedGas: true,
        }).bytes,
      ),
    ]),
  );
  const req = {
    modules,
    stdin: enc('ok'),
    gas: 1_000_000,
    maxOutputBytes: 1000,
    seed: new Uint8Array(32),
    virtualTimeMs: 0,
  };

  it('runs, meters and reports', () => {
    const r = runComponent(instantiate, req);
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
    expect(dec(r.stdout)).toBe('OKenv=0');
    expect(runComponent(instantiate, { ...req, gas: 50 })).toMatchObject({
      code: 'ERR_COMPUTE_GAS_EXHAUSTED',
    });
  });

  it('fails closed when the glue asks for an unpinned module or an import is missing', () => {
    expect(runComponent(instantiate, { ...req, modules: {} })).toMatchObject({
      ok: false,
      code: 'SANDBOX_VIOLATION',
    });
    const noRun: InstantiateComponent = () => ({});
    expect(runComponent(noRun, req)).toMatchObject({ ok: false, code: 'SANDBOX_VIOLATION' });
  });

  it('links a core module only to what the glue provided (nothing inherited)', async () => {
    // A core module importing `env`.`toString` (or `constructor`) from the glue's plain `env`
    // object: those names are Object.prototype's, host functions outside §4, and must not link.
    for (const name of ['toString', 'constructor', 'hasOwnProperty']) {
      const bytes = instrumentModule(
        await wat(`(module (import "env" "${name}" (func $h)) (func (export "f") (call $h)))`),
        { maxMemoryPages: 1, maxTableElements: 10, importPolicy: () => true, sharedGas: true },
      ).bytes;
      let linked = false;
      const glue: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
        instantiateCore(getCoreModule('m.wasm'), { env: {} });
        linked = true;
        return { run: { run: () => {} } };
      };
      const r = runComponent(glue, { ...req, modules: { 'm.wasm': new WebAssembly.Module(bytes) } });
      expect({ name, linked, code: r.code }).toEqual({ name, linked: false, code: 'SANDBOX_VIOLATION' });
    }
  });

  it('maps exits, run errors, traps and memory failures', async () => {
    const exits =
      (code: number): InstantiateComponent =>
      (_g, imports) => ({
        run: {
          run: () =>
            ((imports['wasi:cli/exit'] as Record<string, unknown>).exitWithCode as (c: number) => void)(code),
        },
      });
    expect(runComponent(exits(0), req)).toMatchObject({ ok: true, exit_code: 0 });
    expect(runComponent(exits(4), req)).toMatchObject({
      ok: false,
      code: 'SANDBOX_EXIT_NONZERO',
      exit_code: 4,
    });
    const errResult: InstantiateComponent = () => ({
      'wasi:cli/run': {
        run: () => {
          throw Object.assign(new Error('run failed'), { payload: undefined });
        },
      },
    });
    expect(runComponent(errResult, req)).toMatchObject({ code: 'SANDBOX_EXIT_NONZERO', exit_code: 1 });
    const throwsPlain: InstantiateComponent = () => ({
      run: {
        run: () => {
          throw new Error('glue bug');
        },
      },
    });
    expect(runComponent(throwsPlain, req)).toMatchObject({ code: 'SANDBOX_TRAP' });
    const trap: InstantiateComponent = () => ({
      run: {
        run: () => {
          throw new WebAssembly.RuntimeError('divide by zero');
        },
      },
    });
    expect(runComponent(trap, req)).toMatchObject({ code: 'SANDBOX_TRAP_DIVIDE_BY_ZERO' });
    const flood: InstantiateComponent = (_g, imports) => ({
      run: {
        run: () =>
          (
            (imports['wasi:cli/stdout'] as Record<string, unknown>).getStdout as () => {
              blockingWriteAndFlush(b: Uint8Array): void;
            }
          )().blockingWriteAndFlush(new Uint8Array(2000)),
      },
    });
    expect(runComponent(flood, req)).toMatchObject({ code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    const grower = new WebAssembly.Module(
      instrumentModule(
        await wat(
          `(module (memory (export "mem") 1 1) (func $s (drop (memory.grow (i32.const 1))) unreachable) (start $s))`,
        ),
        {
          maxMemoryPages: 1,
          maxTableElements: 1,
          importPolicy: () => true,
          sharedGas: true,
        },
      ).bytes,
    );
    const bomb: InstantiateComponent = (getCoreModule, _i, instantiateCore) => {
      const inst = instantiateCore(getCoreModule('g'), {});
      return { run: { run: () => (inst.exports.__helm_start as () => void)() } };
    };
    // (the fixture module: memory 1 max 1, start function grows by one page and hits unreachable)
    expect(runComponent(bomb, { ...req, modules: { g: grower } })).toMatchObject({
      code: 'ERR_COMPUTE_MEMORY_EXHAUSTED',
      peak_memory_bytes: 65536,
    });
  });
});

describe('preview2 host', () => {
  let charged = 0;
  const host = createPreview2Host(
    { stdin: enc('abc'), maxOutputBytes: 4, seed: new Uint8Array(32), virtualTimeMs: 1000 },
    (cost) => {
      charged += cost;
    },
  );
  const get = <T>(iface: string, name: string): T => host.imports[iface]?.[name] as T;

  it('exposes nothing of the host', () => {
    expect(get<() => unknown[]>('wasi:cli/environment', 'getEnvironment')()).toEqual([]);
    expect(get<() => unknown[]>('wasi:cli/environment', 'getArguments')()).toEqual([]);
    expect(get<() => unknown>('wasi:cli/environment', 'initialCwd')()).toBeUndefined();
    expect(get<() => unknown[]>('wasi:filesystem/preopens', 'getDirectories')()).toEqual([]);
    expect(get<() => unknown>('wasi:filesystem/types', 'filesystemErrorCode')()).toBeUndefined();
    for (const t of ['Stdin', 'Stdout', 'Stderr']) {
      expect(get<() => unknown>(`wasi:cli/terminal-${t.toLowerCase()}`, `getTerminal${t}`)()).toBeUndefined();
    }
    expect(Object.keys(host.imports).sort()).toEqual([...PREVIEW2_INTERFACES].sort());
    expect(unversioned('wasi:io/streams@0.2.3')).toBe('wasi:io/streams');
    expect(unversioned('wasi:io/streams')).toBe('wasi:io/streams');
    expect(charged).toBe(8 * 100); // every host function called here paid the base
  });

  it('serves stdin, then closed; caps stdout/stderr', () => {
    const stdin = get<
      () => {
        blockingRead(n: bigint): Uint8Array;
        skip(n: bigint): bigint;
        blockingSkip(n: bigint): bigint;
        subscribe(): { ready(): boolean; block(): void };
      }
    >('wasi:cli/stdin', 'getStdin')();
    expect(dec(stdin.blockingRead(2n))).toBe('ab');
    expect(stdin.blockingSkip(5n)).toBe(1n);
    expect(() => stdin.skip(1n)).toThrow();
    expect(stdin.subscribe().ready()).toBe(true);
    stdin.subscribe().block();
    type Out = {
      checkWrite(): bigint;
      blockingWriteAndFlush(b: Uint8Array): void;
      blockingWriteZeroesAndFlush(n: bigint): void;
      flush(): void;
      blockingFlush(): void;
      subscribe(): unknown;
    };
    const out = get<() => Out>('wasi:cli/stdout', 'getStdout')();
    const err = get<() => Out>('wasi:cli/stderr', 'getStderr')();
    expect(out.checkWrite()).toBe(4n);
    out.blockingWriteAndFlush(enc('hi'));
    err.blockingWriteZeroesAndFlush(1n);
    out.flush();
    out.blockingFlush();
    expect(out.subscribe()).toBeDefined();
    expect(() => out.blockingWriteAndFlush(enc('xyz'))).toThrow(OutputLimitSignal);
    expect(out.checkWrite()).toBe(1n);
    expect(dec(host.stdout())).toBe('hix');
    expect([...host.stderr()]).toEqual([0]);
    // guest-sized host allocations are bounded
    expect(() => err.blockingWriteZeroesAndFlush(1n << 40n)).toThrow(OutputLimitSignal);
    expect(() => get<(n: bigint) => Uint8Array>('wasi:random/random', 'getRandomBytes')(1n << 40n)).toThrow(
      RangeError,
    );
  });

  it('has virtual clocks, seeded randomness and exit', () => {
    const now = get<() => { seconds: bigint; nanoseconds: number }>('wasi:clocks/wall-clock', 'now')();
    expect(now).toEqual({ seconds: 1n, nanoseconds: 1000 });
    expect(get<() => unknown>('wasi:clocks/wall-clock', 'resolution')()).toEqual({
      seconds: 0n,
      nanoseconds: 1000,
    });
    expect(get<() => bigint>('wasi:clocks/monotonic-clock', 'now')()).toBe(2000n);
    expect(get<() => bigint>('wasi:clocks/monotonic-clock', 'resolution')()).toBe(1000n);
    expect(get<() => unknown>('wasi:clocks/monotonic-clock', 'subscribeInstant')()).toBeDefined();
    expect(get<() => unknown>('wasi:clocks/monotonic-clock', 'subscribeDuration')()).toBeDefined();
    const bytes = get<(n: bigint) => Uint8Array>('wasi:random/random', 'getRandomBytes')(8n);
    expect(bytes).toHaveLength(8);
    expect(typeof get<() => bigint>('wasi:random/random', 'getRandomU64')()).toBe('bigint');
    expect(get<(n: bigint) => Uint8Array>('wasi:random/insecure', 'getInsecureRandomBytes')(3n)).toHaveLength(
      3,
    );
    expect(typeof get<() => bigint>('wasi:random/insecure', 'getInsecureRandomU64')()).toBe('bigint');
    expect(get<() => bigint[]>('wasi:random/insecure-seed', 'insecureSeed')()).toHaveLength(2);
    expect(get<(l: unknown[]) => Uint32Array>('wasi:io/poll', 'poll')([1, 2])).toEqual(
      Uint32Array.from([0, 1]),
    );
    // Only the host creates resources (a guest's `[constructor]error` is refused); an io error
    // comes from a refused write, and its debug string is a host call like any other.
    const IoError = get<new () => unknown>('wasi:io/error', 'Error');
    expect(() => new IoError()).toThrow('[constructor]error is not provided');
    const stdout = get<() => { write(b: Uint8Array): void }>('wasi:cli/stdout', 'getStdout')();
    let refused: { val: { toDebugString(): string } } | undefined;
    try {
      stdout.write(new Uint8Array(2)); // longer than the last check-write permitted (1)
    } catch (e) {
      refused = e as typeof refused;
    }
    expect(refused?.val.toDebugString()).toBe('error');
    expect(() => get<(s: { tag: string }) => void>('wasi:cli/exit', 'exit')({ tag: 'ok' })).toThrow(
      ExitSignal,
    );
    try {
      get<(s: { tag: string }) => void>('wasi:cli/exit', 'exit')({ tag: 'err' });
    } catch (e) {
      expect((e as ExitSignal).exitCode).toBe(1);
    }
  });
});
