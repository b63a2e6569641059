// processIsolation: calls run in child processes; a deadline or close() kills the child.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSandbox, type IsolatedCall, type IsolatedModule } from '@helm/runtime-sandbox';
import { afterAll, describe, expect, it } from 'vitest';
import { instrumentModule } from '../../runtime-sandbox/src/internal/instrument.ts';
import { preview1ImportPolicy } from '../../runtime-sandbox/src/internal/sandbox.ts';
import { COMPONENT_BYTES, fixtureTranspiler } from '../../runtime-sandbox/test/helpers/component.ts';
import * as P from '../../runtime-sandbox/test/helpers/programs.ts';
import { wat } from '../../runtime-sandbox/test/helpers/wat.ts';
import { childEntryUrl, processIsolation } from '../src/index.ts';

const instrumented = async (source: string) =>
  instrumentModule(await wat(source), {
    maxMemoryPages: 16,
    maxTableElements: 10,
    importPolicy: preview1ImportPolicy,
  }).bytes;

const LIMITS = { gas: 10_000_000, timeout_ms: 10_000, max_output_bytes: 1 << 16 };
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const FILL_LOOP = `(module (memory (export "memory") 64)
  (func (export "_start") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x400000)) (br $l))))`;

/** True while `pid` runs (not reaped and not a zombie). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; ) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

const isolation = processIsolation({ size: 2 });
const sandbox = createSandbox({ isolation, componentTranspiler: fixtureTranspiler });
afterAll(() => sandbox.close());

describe('processIsolation', () => {
  it('arms a deadline above 2^31 − 1 ms instead of clamping it to 1 ms (Node timers)', async () => {
    // Thirty million loop iterations: far more than 1 ms, far less than any long deadline.
    const busy = `(module (memory (export "memory") 1)
      (func (export "_start") (local $i i32)
        (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 30000000))))))`;
    const h = await sandbox.register(await wat(busy));
    const r = await sandbox.run(h, new Uint8Array(0), { ...LIMITS, gas: 1e9, timeout_ms: 2 ** 31 });
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
  });

  it('runs preview1 modules in child processes, with the same results as in-thread', async () => {
    const h = await sandbox.register(await wat(P.ECHO));
    expect(isolation.pids()).toHaveLength(2);
    expect(isolation.pids()).not.toContain(process.pid);
    const r = await sandbox.run(h, enc('{"x":[1,2]}'), LIMITS);
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
    expect(dec(r.stdout)).toBe('{"x":[1,2]}');
    const inThread = createSandbox();
    const t = await inThread.run(await inThread.register(await wat(P.ECHO)), enc('{"x":[1,2]}'), LIMITS);
    await inThread.close();
    expect({ ...r, wall_ms: 0 }).toEqual({ ...t, wall_ms: 0 });
    // Concurrent calls use both children; repeats send the module by reference.
    const many = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sandbox.run(h, enc(String(i)), LIMITS)),
    );
    expect(many.map((m) => dec(m.stdout))).toEqual(['0', '1', '2', '3', '4', '5']);
    const gas = await sandbox.run(await sandbox.register(await wat(P.INFINITE_LOOP)), new Uint8Array(0), {
      ...LIMITS,
      gas: 1000,
    });
    expect(gas).toMatchObject({ code: 'ERR_COMPUTE_GAS_EXHAUSTED', gas_used: 1000 });
  });

  it('runs preview2 components (the glue loads inside the child)', async () => {
    const h = await sandbox.registerComponent(COMPONENT_BYTES);
    const r = await sandbox.run(h, enc('abc'), LIMITS);
    expect(r).toMatchObject({ ok: true });
    expect(dec(r.stdout)).toBe('ABCenv=0');
  });

  it('kills the child at the deadline and replaces it', async () => {
    const h = await sandbox.register(await wat(FILL_LOOP));
    const before = isolation.pids();
    const spawned = isolation.spawned;
    const r = await sandbox.run(h, new Uint8Array(0), {
      ...LIMITS,
      gas: Number.MAX_SAFE_INTEGER,
      timeout_ms: 200,
    });
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_TIME_EXHAUSTED', gas_used: null });
    const killed = before.filter((pid) => !isolation.pids().includes(pid));
    expect(killed).toHaveLength(1);
    expect(await until(() => !running(killed[0] as number))).toBe(true);
    expect(await until(() => isolation.spawned === spawned + 1 && isolation.pids().length === 2)).toBe(true);
    const next = await sandbox.run(
      await sandbox.register(await wat(P.EXIT_WITH(3))),
      new Uint8Array(0),
      LIMITS,
    );
    expect(next).toMatchObject({ code: 'SANDBOX_EXIT_NONZERO', exit_code: 3 });
  });

  it('reports a child that dies during a call as a crash and replaces it', async () => {
    const port = processIsolation();
    const sb = createSandbox({ isolation: port });
    const h = await sb.register(await wat(FILL_LOOP));
    const pending = sb.run(h, new Uint8Array(0), {
      ...LIMITS,
      gas: Number.MAX_SAFE_INTEGER,
      timeout_ms: 60_000,
    });
    await new Promise((r) => setTimeout(r, 100));
    const [pid] = port.pids();
    process.kill(pid as number, 'SIGKILL');
    expect(await pending).toMatchObject({ ok: false, code: 'INTERNAL_ERROR' });
    expect(await until(() => port.pids().length === 1 && port.pids()[0] !== pid)).toBe(true);
    expect((await sb.run(await sb.register(await wat(P.EXIT_WITH(0))), new Uint8Array(0), LIMITS)).ok).toBe(
      true,
    );
    await sb.close();
  });

  it('close() kills every child and ends pending and later calls', async () => {
    const port = processIsolation({ size: 1 });
    const sb = createSandbox({ isolation: port });
    const h = await sb.register(await wat(FILL_LOOP));
    const limits = { ...LIMITS, gas: Number.MAX_SAFE_INTEGER, timeout_ms: 60_000 };
    const first = sb.run(h, new Uint8Array(0), limits);
    const queued = sb.run(h, new Uint8Array(0), limits);
    await new Promise((r) => setTimeout(r, 100));
    const pids = port.pids();
    await sb.close();
    expect(await first).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(await queued).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(pids.some(running)).toBe(false);
    expect(port.pids()).toEqual([]);
    const module: IsolatedModule = { kind: 'core', id: 'x', bytes: new Uint8Array(8) };
    const call: IsolatedCall = {
      module,
      stdin: new Uint8Array(0),
      gas: 1,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    expect(await port.run(call, 100)).toMatchObject({ kind: 'crashed', message: 'sandbox closed' });
    await port.prepare(module); // a closed port starts nothing
    expect(port.pids()).toEqual([]);
  });

  it('loads a module once per child, also when prepared concurrently, and runs without a timer', async () => {
    const port = processIsolation();
    const module: IsolatedModule = { kind: 'core', id: 'exit', bytes: await instrumented(P.EXIT_WITH(4)) };
    await Promise.all([port.prepare(module), port.prepare(module)]);
    await port.prepare(module);
    const call: IsolatedCall = {
      module,
      stdin: new Uint8Array(0),
      gas: 10_000,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    expect(await port.run(call, Number.POSITIVE_INFINITY)).toMatchObject({
      kind: 'done',
      outcome: { exit_code: 4 },
    });
    await port.close();
  });

  it('does not replace a child killed at the deadline once closed', async () => {
    const port = processIsolation();
    const sb = createSandbox({ isolation: port });
    const h = await sb.register(await wat(FILL_LOOP));
    const spawned = port.spawned;
    await sb.run(h, new Uint8Array(0), { ...LIMITS, gas: Number.MAX_SAFE_INTEGER, timeout_ms: 100 });
    await sb.close(); // before the replacement is spawned (next turn)
    await new Promise((r) => setTimeout(r, 50));
    expect(port.spawned).toBe(spawned);
    expect(port.pids()).toEqual([]);
  });

  it('fails a registration whose module the child cannot compile', async () => {
    const port = processIsolation();
    const module: IsolatedModule = {
      kind: 'core',
      id: 'bad',
      bytes: new Uint8Array([0, 0x61, 0x73, 0x6d, 9]),
    };
    await expect(port.prepare(module)).rejects.toThrow(/does not compile/);
    await port.close();
  });

  it('reports children that cannot start, without respawning them in a loop', async () => {
    const broken = processIsolation({ hostModule: 'data:text/javascript,throw new Error("no host here")' });
    const module: IsolatedModule = { kind: 'core', id: 'm', bytes: await wat(P.EXIT_WITH(0)) };
    await broken.prepare(module); // the child died: nothing waits for it
    const call: IsolatedCall = {
      module,
      stdin: new Uint8Array(0),
      gas: 100,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    expect(await broken.run(call, 5000)).toMatchObject({ kind: 'crashed', message: /no host here/ });
    await new Promise((r) => setTimeout(r, 300));
    expect(broken.spawned).toBe(2);
    await broken.close();
    const missing = processIsolation({ execPath: '/nonexistent/node' });
    const failed = missing.run(call, 5000);
    expect(missing.pids()).toEqual([]); // spawn failed: no pid
    expect(await failed).toMatchObject({ kind: 'crashed', message: /ENOENT/ });
    await missing.close();
  });

  it('validates its size and names its child entry', () => {
    for (const size of [0, 65, 1.5]) expect(() => processIsolation({ size })).toThrow(RangeError);
    expect(childEntryUrl('file:///x/index.ts').href).toBe('file:///x/child.ts');
    expect(childEntryUrl('file:///x/index.js').href).toBe('file:///x/child.js');
  });

  it.skipIf(process.platform !== 'linux')(
    'leaves no child running when its parent dies without close()',
    async () => {
      const script = fileURLToPath(new URL('./helpers/orphan.ts', import.meta.url));
      const hook = new URL('../../runtime-sandbox/test/helpers/ts-resolve.mjs', import.meta.url).href;
      const parent = spawn(
        process.execPath,
        ['--experimental-transform-types', '--no-warnings', '--import', hook, script],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await new Promise((r) => parent.on('exit', r));
      const pid = Number(out.trim());
      expect(pid).toBeGreaterThan(0);
      expect(await until(() => !running(pid))).toBe(true);
    },
  );
});
