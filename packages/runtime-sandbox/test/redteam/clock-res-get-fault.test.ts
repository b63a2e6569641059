// Red team (I-SANDBOX-3, sandbox.md §3): "A pointer outside linear memory gives FAULT, never a host
// failure, and a call that answers FAULT has had no effect." `clock_res_get` writes its 8-byte
// answer without checking the pointer first: a `resPtr` in the last 7 bytes of memory (or past
// it) makes the DataView throw a RangeError inside the host, which ends the whole run as a trap
// (SANDBOX_TRAP) instead of answering EFAULT (21) to the guest.
import { describe, expect, it } from 'vitest';
import { runGuest } from '../../src/internal/guest-run.ts';
import { ERRNO } from '../../src/internal/wasi-abi.ts';
import { compiled } from '../helpers/modules.ts';

const CLOCK_RES_GET = `(import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))`;

/** Calls clock_res_get(0, ptr); traps (unreachable) unless the errno is `expected`. */
const guest = (ptr: number, expected: number) => `(module ${CLOCK_RES_GET}
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.ne (call $clock_res_get (i32.const 0) (i32.const ${ptr})) (i32.const ${expected}))
      (then unreachable))))`;

async function run(ptr: number, expected: number) {
  return runGuest({
    module: await compiled(guest(ptr, expected)),
    stdin: new Uint8Array(0),
    gas: 1_000_000,
    maxOutputBytes: 1024,
    seed: new Uint8Array(32),
    virtualTimeMs: 0,
  });
}

describe('red team: clock_res_get checks its pointer (EFAULT, never a host failure)', () => {
  it('an in-bounds pointer answers SUCCESS (control)', async () => {
    const r = await run(64, ERRNO.SUCCESS);
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
  });

  for (const ptr of [65536 - 4, 65536, 0xfffffff0]) {
    it(`resPtr ${ptr} (answer does not fit in memory) is EFAULT, and the guest keeps running`, async () => {
      const r = await run(ptr, ERRNO.FAULT);
      // The guest must get the errno back and finish; today the run ends as a host-side trap.
      expect(r.code).toBeUndefined();
      expect(r).toMatchObject({ ok: true, exit_code: 0 });
    });
  }
});
