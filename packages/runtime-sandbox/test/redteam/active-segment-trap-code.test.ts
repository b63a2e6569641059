// Red team (I-SANDBOX-6, sandbox.md §7): traps map to the spec's codes — "memory/table/data-segment
// access out of bounds (including table.get/set/fill/copy/init) ⇒ SANDBOX_TRAP_OUT_OF_BOUNDS";
// SANDBOX_TRAP_INDIRECT_CALL is only for `call_indirect` to a null entry, past the table, or with
// a wrong signature. An *active* element segment that does not fit its table traps during
// instantiation with V8's "table index is out of bounds" message; guest-run.ts maps instantiation
// traps by message alone (no site is looked up), so a module that never executes a call_indirect
// — it has none — is reported SANDBOX_TRAP_INDIRECT_CALL. The same shape with a data segment is
// (correctly) SANDBOX_TRAP_OUT_OF_BOUNDS, so the two kinds of segment disagree.
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.close());

const LIMITS = { gas: 1_000_000, timeout_ms: 10_000, max_output_bytes: 1024 };

async function run(fields: string) {
  const handle = await sandbox.register(
    await wat(`(module ${fields} (memory (export "memory") 1) (func (export "_start")))`),
  );
  return sandbox.run(handle, new Uint8Array(0), LIMITS);
}

describe('red team: an out-of-bounds active segment traps SANDBOX_TRAP_OUT_OF_BOUNDS', () => {
  it('data segment past the memory (control: already right)', async () => {
    const r = await run(`(data (i32.const 65535) "ab")`);
    expect(r).toMatchObject({ ok: false, code: 'SANDBOX_TRAP_OUT_OF_BOUNDS' });
  });

  it('element segment starting past the table', async () => {
    const r = await run(`(table 1 funcref) (func $f) (elem (i32.const 5) $f)`);
    expect(r).toMatchObject({ ok: false, code: 'SANDBOX_TRAP_OUT_OF_BOUNDS' });
  });

  it('element segment running off the end of the table', async () => {
    const r = await run(`(table 2 funcref) (func $f) (elem (i32.const 1) $f $f)`);
    expect(r).toMatchObject({ ok: false, code: 'SANDBOX_TRAP_OUT_OF_BOUNDS' });
  });
});
