// I-SANDBOX-8 — a module handle binds the exact registered bytes. Instrumentation drops custom
// sections and re-encodes every section, so distinct sources (a custom section added, moved or
// changed; a size field padded with a redundant LEB128 byte) can instrument to the same code. They
// may share the compiled module (same `id`: the code that runs) but never a handle: each
// registration's `source_digest` is the SHA-256 of its own bytes, which is what a tool's
// `driver.ref` binds. The attacker: a second tool whose module differs from the first only outside
// the code, which used to receive the first module's handle (DRIVER_BINDING_MISMATCH, or a pin for
// bytes that were never registered).
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, type ModuleHandle, SandboxError } from '../../src/index.ts';
import { ECHO, EXIT_WITH } from '../helpers/programs.ts';
import { Bin } from '../helpers/shapes.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());
const LIMITS = { gas: 1_000_000, timeout_ms: 20_000, max_output_bytes: 1024 };

const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A custom section (id 0) with `name` and `payload`. */
function custom(name: string, payload: readonly number[]): Uint8Array {
  const body = new Bin().name(name).bytes(payload).done();
  return new Bin().byte(0).u32(body.length).bytes(body).done();
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Variants of `base` that differ only outside the code the sandbox runs. */
function variants(base: Uint8Array): Uint8Array[] {
  const header = base.subarray(0, 8);
  const rest = base.subarray(8);
  // The first section's size re-encoded with a redundant continuation byte (valid LEB128).
  const id = rest[0] as number;
  const size = rest[1] as number;
  if (size >= 0x80) throw new Error('test module: first section must be < 128 bytes');
  const padded = concat(header, Uint8Array.of(id, size | 0x80, 0x00), rest.subarray(2));
  return [
    base,
    concat(base, custom('a', [1])),
    concat(base, custom('a', [2])),
    concat(base, custom('b', [1])),
    concat(header, custom('a', [1]), rest),
    concat(base, custom('a', [1]), custom('a', [1])),
    padded,
  ];
}

describe('I-SANDBOX-8: a handle binds the exact registered bytes', () => {
  it('modules differing only in custom sections or encoding never share a handle', async () => {
    const sources = variants(await wat(EXIT_WITH(0)));
    const handles: ModuleHandle[] = [];
    for (const bytes of sources) {
      expect(WebAssembly.validate(bytes)).toBe(true);
      handles.push(await sandbox.register(bytes));
    }
    // Distinct bytes, distinct bindings; each handle names its own bytes.
    expect(new Set(sources.map(sha)).size).toBe(sources.length);
    expect(handles.map((h) => h.source_digest)).toEqual(sources.map(sha));
    // The code that runs is the same (the instrumenter drops custom sections), so `id` is shared.
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    // Registering the same bytes again returns the same handle (nothing else is cached by id).
    for (const [i, bytes] of sources.entries()) expect(await sandbox.register(bytes)).toBe(handles[i]);
    for (const h of handles) {
      const r = await sandbox.run(h, new Uint8Array(0), LIMITS);
      expect(r).toMatchObject({ ok: true, exit_code: 0 });
    }
  });

  it('registerInstrumented returns the pinned source, not an earlier registration of the same code', async () => {
    const [a, b] = variants(await wat(ECHO)).slice(0, 2) as [Uint8Array, Uint8Array];
    const ha = await sandbox.register(a);
    const instrumented = sandbox.instrumentedBytes(ha);
    const pinB: ModuleHandle = { ...ha, source_digest: sha(b) };
    const other = createSandbox();
    try {
      // In a fresh sandbox and in one that already issued `ha`: the handle is the pin.
      expect(await other.registerInstrumented(instrumented, pinB)).toEqual(pinB);
      expect(await sandbox.registerInstrumented(instrumented, pinB)).toEqual(pinB);
      expect(await sandbox.registerInstrumented(instrumented, ha)).toBe(ha);
    } finally {
      await other.close();
    }
  });

  it('run and instrumentedBytes accept only handles this sandbox issued', async () => {
    const base = await wat(EXIT_WITH(0));
    const h = await sandbox.register(base);
    const forged = [
      { ...h, source_digest: sha(concat(base, custom('never', [9]))) },
      { ...h, max_memory_bytes: h.max_memory_bytes * 2 },
      { ...h, canonicalize_nan: !h.canonicalize_nan },
      { ...h, kind: 'wasi-preview2' as const },
    ];
    for (const f of forged) {
      await expect(sandbox.run(f, new Uint8Array(0), LIMITS)).rejects.toMatchObject({
        code: 'SANDBOX_UNKNOWN_MODULE',
      });
      expect(() => sandbox.instrumentedBytes(f)).toThrow(SandboxError);
    }
    // A copy with equal fields is the same handle.
    expect(await sandbox.run({ ...h }, new Uint8Array(0), LIMITS)).toMatchObject({ ok: true });
  });
});
