// I-SANDBOX-3 — host calls are charged gas by the work they do (per call, per iovec, per byte),
// before doing it, so no host call does unbounded work for constant gas; random_get is capped per
// call; fd_read / fd_write check every pointer (iovec array, every buffer, nread / nwritten)
// before any effect, so a faulting call has none.
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { type GuestRequest, runGuest } from '../../src/internal/guest-run.ts';
import { createPreview2Host } from '../../src/internal/preview2-host.ts';
import { ERRNO } from '../../src/internal/wasi-abi.ts';
import {
  createPreview1Host,
  GasExhaustedSignal,
  HOST_CALL_GAS,
  IO_BYTE_GAS,
  IOVEC_GAS,
  MAX_RANDOM_BYTES,
  RANDOM_BYTE_GAS,
} from '../../src/internal/wasi-preview1.ts';
import { compiled, dec, enc } from '../helpers/modules.ts';
import { wat } from '../helpers/wat.ts';

const imp = (name: string, sig: string) =>
  `(import "wasi_snapshot_preview1" "${name}" (func $${name} ${sig}))`;
const RANDOM_GET = imp('random_get', '(param i32 i32) (result i32)');
const FD_WRITE = imp('fd_write', '(param i32 i32 i32 i32) (result i32)');
const FD_READ = imp('fd_read', '(param i32 i32 i32 i32) (result i32)');
const SCHED_YIELD = imp('sched_yield', '(result i32)');

/** A command whose `_start` runs `body` with `pages` of memory (and the imports in `prelude`). */
const guest = (prelude: string, body: string, pages = 1) =>
  `(module ${prelude} (memory (export "memory") ${pages}) (func (export "_start") ${body}))`;
/** Stores the errno of `call` at byte `at`. */
const errnoAt = (at: number, call: string) => `(i32.store8 (i32.const ${at}) ${call})`;
/** `n` straight-line copies of `stmt` (no loop: the instruction gas is the same whatever the call costs). */
const times = (n: number, stmt: string) => Array.from({ length: n }, () => stmt).join(' ');

async function run(source: string, over: Partial<GuestRequest> = {}, pages = 16) {
  return runGuest({
    module: await compiled(source, pages),
    stdin: new Uint8Array(0),
    gas: 1e12,
    maxOutputBytes: 1 << 20,
    seed: new Uint8Array(32),
    virtualTimeMs: 0,
    ...over,
  });
}

/** Runs through a sandbox (a worker with a 5 s deadline, so a host call that runs away is stopped). */
async function sandboxed(source: string, gas: number) {
  const sandbox = createSandbox();
  try {
    const handle = await sandbox.register(await wat(source));
    return await sandbox.run(handle, new Uint8Array(0), { gas, timeout_ms: 5000, max_output_bytes: 1 << 20 });
  } finally {
    await sandbox.close();
  }
}

/** Gas of `a` minus gas of `b` (both must succeed). */
async function extraGas(a: string, b: string, over: Partial<GuestRequest> = {}): Promise<number> {
  const [ra, rb] = [await run(a, over), await run(b, over)];
  expect(ra.ok, String(ra.code)).toBe(true);
  expect(rb.ok, String(rb.code)).toBe(true);
  return ra.gas_used - rb.gas_used;
}

describe('I-SANDBOX-3: host calls are charged by the work they do', () => {
  it('charges every WASI call its base, even calls that do nothing', async () => {
    const extra = await extraGas(
      guest(SCHED_YIELD, times(10, '(drop (call $sched_yield))')),
      guest(SCHED_YIELD, times(10, '(drop (i32.const 0))')),
    );
    // 10 × (call − i32.const: the same instruction count) + 10 host calls
    expect(extra).toBe(10 * HOST_CALL_GAS);
  });

  it('charges random_get per byte and refuses more than MAX_RANDOM_BYTES per call (EINVAL, no effect)', async () => {
    const extra = await extraGas(
      guest(RANDOM_GET, '(drop (call $random_get (i32.const 0) (i32.const 65536)))', 2),
      guest(RANDOM_GET, '(drop (call $random_get (i32.const 0) (i32.const 0)))', 2),
    );
    expect(extra).toBe(65_536 * RANDOM_BYTE_GAS);
    // 64 MiB in one call: refused at once (before this fix it cost 98 gas and ~20 s of host CPU).
    const huge = await sandboxed(
      guest(
        RANDOM_GET,
        '(if (i32.ne (call $random_get (i32.const 16) (i32.const 0x4000000)) (i32.const 28)) (then unreachable))',
        1024,
      ),
      1e12,
    );
    expect(huge).toMatchObject({ ok: true });
    expect(huge.gas_used).toBeLessThan(1000);
    const r = await run(
      guest(
        `${RANDOM_GET} ${FD_WRITE}`,
        `${errnoAt(0, `(call $random_get (i32.const 16) (i32.const ${MAX_RANDOM_BYTES + 1}))`)}
         (i32.store (i32.const 4) (i32.const 0)) (i32.store (i32.const 8) (i32.const 48))
         (drop (call $fd_write (i32.const 1) (i32.const 4) (i32.const 1) (i32.const 12)))`,
        2,
      ),
    );
    expect(r.stdout[0]).toBe(ERRNO.INVAL);
    expect([...r.stdout.subarray(16, 48)].every((b) => b === 0)).toBe(true); // nothing was written
  });

  it('does no random work the budget cannot pay for', async () => {
    // One 64 KiB call costs more than the whole budget: the run ends before any byte is produced.
    const src = guest(
      `${RANDOM_GET}`,
      `(loop $l (drop (call $random_get (i32.const 0) (i32.const 65536))) (br $l))`,
      2,
    );
    // (Before this fix this loop ran until the deadline: each call cost a handful of gas.)
    const r = await sandboxed(src, 1_000_000);
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', gas_used: 1_000_000 });
  });

  it('charges fd_write per iovec — 1,024 empty iovecs are not free — and per byte written', async () => {
    const iovecs = (n: number, len: number) =>
      Array.from(
        { length: n },
        (_, i) =>
          `(i32.store (i32.const ${1024 + i * 8}) (i32.const 64)) (i32.store (i32.const ${1028 + i * 8}) (i32.const ${len}))`,
      ).join(' ');
    const write = (n: number) =>
      times(10, `(drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const ${n}) (i32.const 0)))`);
    const empty = await extraGas(
      guest(FD_WRITE, `${iovecs(1024, 0)} ${write(1024)}`),
      guest(FD_WRITE, `${iovecs(1024, 0)} ${write(1)}`),
    );
    expect(empty).toBe(10 * 1023 * IOVEC_GAS);
    const bytes = await extraGas(
      guest(FD_WRITE, `${iovecs(4, 100)} ${write(4)}`),
      guest(FD_WRITE, `${iovecs(4, 0)} ${write(4)}`),
    );
    expect(bytes).toBe(10 * 400 * IO_BYTE_GAS);
  });

  it('charges fd_read per iovec and per byte read', async () => {
    const read = (len: number) =>
      `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const ${len}))
       (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))`;
    const extra = await extraGas(guest(FD_READ, read(1000)), guest(FD_READ, read(0)), {
      stdin: new Uint8Array(700),
    });
    expect(extra).toBe(700 * IO_BYTE_GAS);
  });

  it('ends the run at a charge the budget cannot pay, before the effect', async () => {
    const write = (len: number) =>
      guest(
        FD_WRITE,
        `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const ${len}))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))`,
      );
    // Everything but the bytes is paid for: the byte charge fails and nothing is written.
    const rest = (await run(write(0))).gas_used;
    const short = await run(write(1000), { gas: rest + 1000 * IO_BYTE_GAS - 1 });
    expect(short).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    expect(short.stdout).toHaveLength(0);
    const paid = await run(write(1000), { gas: rest + 1000 * IO_BYTE_GAS });
    expect(paid).toMatchObject({ ok: true, gas_used: rest + 1000 * IO_BYTE_GAS });
    expect(paid.stdout).toHaveLength(1000);
  });

  it('charges preview2 host calls on the component host counter, before the work', () => {
    let left = 1000;
    const charge = (cost: number) => {
      left -= cost;
      if (left < 0) throw new GasExhaustedSignal();
    };
    const host = createPreview2Host(
      { stdin: enc('abcdef'), maxOutputBytes: 100, seed: new Uint8Array(32), virtualTimeMs: 0 },
      charge,
    );
    const get = <T>(iface: string, name: string): T =>
      (host.imports[iface] as Record<string, unknown>)[name] as T;
    const random = get<(n: bigint) => Uint8Array>('wasi:random/random', 'getRandomBytes');
    expect(random(10n)).toHaveLength(10);
    expect(left).toBe(1000 - HOST_CALL_GAS - 10 * RANDOM_BYTE_GAS);
    expect(() => random(1000n)).toThrow(GasExhaustedSignal); // 16 000 gas of bytes: not produced
    // Once the counter is below zero, every host call throws, even the cheapest.
    const getStdin = get<() => { read(n: bigint): Uint8Array }>('wasi:cli/stdin', 'getStdin');
    expect(() => getStdin()).toThrow(GasExhaustedSignal);
    left = 1000;
    const stdin = getStdin();
    expect(dec(stdin.read(4n))).toBe('abcd');
    expect(left).toBe(1000 - 2 * HOST_CALL_GAS - 4 * IO_BYTE_GAS);
  });
});

describe('I-SANDBOX-3: fd_read / fd_write check every pointer before any effect', () => {
  // iovec array at 16; data at 64; the result of the call is stored at 0, then memory[0..96) is printed
  // by a second, valid fd_write (iovec at 200, nwritten at 208).
  const dump = `(i32.store (i32.const 200) (i32.const 0)) (i32.store (i32.const 204) (i32.const 96))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208)))`;
  const END = 65_536;

  it('fd_write: nwritten out of bounds is EFAULT and nothing is written', async () => {
    const r = await run(
      guest(
        FD_WRITE,
        `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 5))
         ${errnoAt(0, `(call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const ${END - 2}))`)}
         ${dump}`,
      ),
    );
    expect(r.stdout[0]).toBe(ERRNO.FAULT);
    expect(r.stdout).toHaveLength(96); // only the dump: the faulting call emitted nothing
  });

  it('fd_write: a later iovec out of bounds (buffer or the array itself) is EFAULT and nothing is written', async () => {
    for (const [iovs, count, setup] of [
      // second buffer runs past the end of memory
      [16, 2, `(i32.store (i32.const 24) (i32.const ${END - 2})) (i32.store (i32.const 28) (i32.const 4))`],
      // the iovec array itself runs past the end of memory
      [
        END - 8,
        2,
        `(i32.store (i32.const ${END - 8}) (i32.const 64)) (i32.store (i32.const ${END - 4}) (i32.const 5))`,
      ],
    ] as const) {
      const r = await run(
        guest(
          FD_WRITE,
          `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 5)) ${setup}
           ${errnoAt(0, `(call $fd_write (i32.const 1) (i32.const ${iovs}) (i32.const ${count}) (i32.const 8))`)}
           ${dump}`,
        ),
      );
      expect(r.stdout[0]).toBe(ERRNO.FAULT);
      expect(r.stdout).toHaveLength(96);
    }
  });

  it('fd_read: a fault on a later iovec or on nread consumes no input and writes nothing', async () => {
    for (const [count, nread, setup] of [
      [2, 8, `(i32.store (i32.const 24) (i32.const ${END - 2})) (i32.store (i32.const 28) (i32.const 4))`],
      [1, END - 2, ''],
    ] as const) {
      const r = await run(
        guest(
          `${FD_READ} ${FD_WRITE}`,
          `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3)) ${setup}
           ${errnoAt(0, `(call $fd_read (i32.const 0) (i32.const 16) (i32.const ${count}) (i32.const ${nread}))`)}
           (i32.store8 (i32.const 1) (i32.load8_u (i32.const 64)))
           ;; a valid read afterwards still gets the input from its first byte
           (i32.store (i32.const 20) (i32.const 3))
           (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))
           ${dump}`,
        ),
        { stdin: enc('xyz!') },
      );
      expect(r.stdout[0]).toBe(ERRNO.FAULT);
      expect(r.stdout[1]).toBe(0); // the faulting call wrote nothing into the first buffer
      expect(dec(r.stdout.subarray(64, 67))).toBe('xyz');
    }
  });

  it('fd_read: the iovecs are read once, before any byte is stored (input cannot redirect them)', async () => {
    // The first buffer is the second iovec's pointer field; the input would point it at 256.
    const r = await run(
      guest(
        `${FD_READ} ${FD_WRITE}`,
        `(i32.store (i32.const 16) (i32.const 24)) (i32.store (i32.const 20) (i32.const 4))
         (i32.store (i32.const 24) (i32.const 64)) (i32.store (i32.const 28) (i32.const 4))
         ${errnoAt(0, '(call $fd_read (i32.const 0) (i32.const 16) (i32.const 2) (i32.const 8))')}
         (i32.store (i32.const 200) (i32.const 0)) (i32.store (i32.const 204) (i32.const 300))
         (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208)))`,
      ),
      { stdin: Uint8Array.from([0, 1, 0, 0, ...enc('ABCD')]) },
    );
    expect(r.stdout[0]).toBe(ERRNO.SUCCESS);
    expect(dec(r.stdout.subarray(64, 68))).toBe('ABCD');
    expect([...r.stdout.subarray(256, 260)]).toEqual([0, 0, 0, 0]);
  });

  it('only the host’s own bounds checks are EFAULT: any other error inside a host call ends the run', () => {
    // A JS stack overflow (a RangeError) can strike after a host call had an effect; it must never
    // be reported to the guest as a clean FAULT. Simulate an engine error with a memory whose
    // buffer getter throws a RangeError.
    const host = createPreview1Host({
      stdin: new Uint8Array(0),
      maxOutputBytes: 64,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    });
    const gas = new WebAssembly.Global({ value: 'i64', mutable: true }, 1_000_000n);
    const hostile = {
      get buffer(): ArrayBuffer {
        throw new RangeError('Maximum call stack size exceeded');
      },
    } as unknown as WebAssembly.Memory;
    host.bind(hostile, gas);
    const fdWrite = host.imports.fd_write as unknown as (...a: number[]) => number;
    expect(() => fdWrite(1, 0, 1, 0)).toThrow(RangeError);
    const randomGet = host.imports.random_get as unknown as (...a: number[]) => number;
    expect(() => randomGet(0, 8)).toThrow(RangeError);
  });
});
