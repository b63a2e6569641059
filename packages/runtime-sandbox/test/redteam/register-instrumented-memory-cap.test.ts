// Red team (sandbox.md §2 "Handle identity", I-SANDBOX-4, I-SANDBOX-5): `registerInstrumented(bytes, pin)`
// re-loads cached bytes without instrumenting them, and must refuse bytes that "declare [a] memory
// maximum above pin.max_memory_bytes". The check only looks at a *declared* maximum: a memory
// with no maximum at all (flags 0x00: up to 65 536 pages, 4 GiB) passes, so a handle that says
// `max_memory_bytes: 65536` runs a guest that grows its memory far past that. The instrumenter
// never emits such a memory (it always writes a capped maximum), so the cached path accepts what
// the normal path can never produce — the memory cap is not enforced at (re-)registration. The
// same holds for tables: none of the table caps or module limits is checked on this path, so a
// table without a maximum grows past the sandbox's `maxTableElements`.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSandbox, type ModuleHandle, SandboxError } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const PAGE = 65536;

/** Metering exports and `_start: [] -> []` like an instrumented module, but a memory without a maximum. */
const uncappedSource = `(module
  (memory (export "memory") 1)
  (global $gas (export "__helm_gas") (mut i64) (i64.const 0))
  (global (export "__helm_grow_failed") (mut i32) (i32.const 0))
  (func (export "_start")
    (global.set $gas (i64.sub (global.get $gas) (i64.const 1)))
    (drop (memory.grow (i32.const 15)))))`;

describe('red team: registerInstrumented enforces the memory and table caps', () => {
  it('refuses a memory without a maximum under a one-page pin, or at least keeps it to one page', async () => {
    const bytes = await wat(uncappedSource);
    const pin: ModuleHandle = {
      id: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      source_digest: `sha256:${'00'.repeat(32)}`,
      kind: 'wasi-preview1',
      max_memory_bytes: PAGE,
      canonicalize_nan: true,
    };
    const sandbox = createSandbox();
    try {
      const outcome = await sandbox.registerInstrumented(bytes, pin).then(
        async (h) =>
          sandbox.run(h, new Uint8Array(0), { gas: 1000, timeout_ms: 10_000, max_output_bytes: 0 }),
        (e: unknown) => e,
      );
      if (outcome instanceof SandboxError) {
        expect(outcome.code).toBe('SANDBOX_INVALID_MODULE');
        return;
      }
      // Accepted: then what runs must stay within the handle's cap. Today it grows to 16 pages.
      expect(outcome).not.toBeInstanceOf(Error);
      const r = outcome as { peak_memory_bytes: number | null };
      expect(r.peak_memory_bytes).not.toBeNull();
      expect(r.peak_memory_bytes as number).toBeLessThanOrEqual(pin.max_memory_bytes);
    } finally {
      await sandbox.close();
    }
  });

  it("keeps a cached module's tables within the sandbox's maxTableElements", async () => {
    // A table without a maximum (the instrumenter always writes a capped one) grows past the cap.
    const bytes = await wat(`(module
      (memory (export "memory") 1)
      (table $t 1 funcref)
      (global $gas (export "__helm_gas") (mut i64) (i64.const 0))
      (global (export "__helm_grow_failed") (mut i32) (i32.const 0))
      (func (export "_start")
        (global.set $gas (i64.sub (global.get $gas) (i64.const 1)))
        (drop (table.grow $t (ref.null func) (i32.const 5000)))
        (if (i32.gt_u (table.size $t) (i32.const 1000)) (then unreachable))))`);
    const pin: ModuleHandle = {
      id: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      source_digest: `sha256:${'00'.repeat(32)}`,
      kind: 'wasi-preview1',
      max_memory_bytes: PAGE,
      canonicalize_nan: true,
    };
    const sandbox = createSandbox({ maxTableElements: 1000 });
    try {
      const outcome = await sandbox.registerInstrumented(bytes, pin).then(
        async (h) =>
          sandbox.run(h, new Uint8Array(0), { gas: 1000, timeout_ms: 10_000, max_output_bytes: 0 }),
        (e: unknown) => e,
      );
      if (outcome instanceof SandboxError) {
        expect(outcome.code).toBe('SANDBOX_INVALID_MODULE');
        return;
      }
      // Accepted: the table must not pass the cap (today it reaches 5001 and the guest traps).
      expect((outcome as { code?: string }).code).toBeUndefined();
      expect(outcome).toMatchObject({ ok: true });
    } finally {
      await sandbox.close();
    }
  });
});
