// I-SANDBOX-5: every public argument is checked up front, and what runs is what was checked. An
// argument object whose getters answer each read anew (or a Proxy) must not pass the check with
// one value and reach the run, the instrumenter or the pin with another: the sandbox reads each
// field once and uses that snapshot.
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, type ModuleHandle, type RunLimits, SandboxError } from '../src/index.ts';
import { wat } from './helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

/** An object whose `field` is `first` on the first read and `later` on every read after it. */
function shifty<T extends object>(base: T, field: string, first: unknown, later: unknown): T {
  let reads = 0;
  return Object.defineProperty({ ...base }, field, {
    enumerable: true,
    get: () => (reads++ === 0 ? first : later),
  });
}

// _start writes 8 bytes to stdout, then loops 100 times.
const WRITER = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 8))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))))`;

describe('I-SANDBOX-5: what is checked is what is used', () => {
  it('run limits are read once: a getter cannot swap a checked value for another', async () => {
    const handle = await sandbox.register(await wat(WRITER));
    const base: RunLimits = { gas: 100_000, timeout_ms: 10_000, max_output_bytes: 1 << 20 };
    // checked as 4 bytes of output, then 1 MiB
    const cap = await sandbox.run(handle, new Uint8Array(0), shifty(base, 'max_output_bytes', 4, 1 << 20));
    expect(cap).toMatchObject({ ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    expect(cap.stdout).toHaveLength(4);
    // checked as 100 gas, then 2^60
    const gas = await sandbox.run(handle, new Uint8Array(0), shifty(base, 'gas', 100, 2 ** 60));
    expect(gas).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', gas_used: 100 });
    // checked as a valid gas, then NaN: never a raw error
    const nan = await sandbox.run(handle, new Uint8Array(0), shifty(base, 'gas', 100_000, Number.NaN));
    expect(nan).toMatchObject({ ok: true });
  });

  it('register options and pins are read once', async () => {
    // (a float instruction: only then does the handle record canonicalize_nan: false)
    const bytes = await wat(
      '(module (memory (export "memory") 1) (func (export "_start") (drop (f32.add (f32.const 1) (f32.const 2)))))',
    );
    // checked as a boolean, then a string
    const h = await sandbox.register(bytes, shifty({}, 'canonicalizeNaN', false, 'yes'));
    expect(h.canonicalize_nan).toBe(false);
    // a pin checked as a valid handle whose id then turns into a Symbol
    const pin = shifty({ ...h } as ModuleHandle, 'canonicalize_nan', false, Symbol('x'));
    let e: unknown;
    let again: ModuleHandle | undefined;
    try {
      again = await sandbox.registerInstrumented(sandbox.instrumentedBytes(h), pin);
    } catch (error) {
      e = error;
    }
    if (again === undefined) expect(e).toBeInstanceOf(SandboxError);
    else expect(again).toBe(h);
  });
});
