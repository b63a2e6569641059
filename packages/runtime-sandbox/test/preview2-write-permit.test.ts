// wasi:io/streams output: a non-blocking `write` may pass at most what the last `check-write`
// permitted (less what was written since) — a longer one is refused and stores nothing, but its
// bytes (already copied out by the glue) are paid for; every write pays per byte handed over;
// and the write that reaches the output cap ends all further storing (sandbox.md §Host-call costs).
import { describe, expect, it } from 'vitest';
import { createPreview2Host, MAX_WRITE_PERMIT } from '../src/internal/preview2-host.ts';
import { HOST_CALL_GAS, IO_BYTE_GAS, OutputLimitSignal } from '../src/internal/wasi-preview1.ts';

interface Out {
  checkWrite(): bigint;
  write(b: Uint8Array): void;
  blockingWriteAndFlush(b: Uint8Array): void;
}

function setup(maxOutputBytes: number) {
  let charged = 0;
  let stopped = 0;
  const host = createPreview2Host(
    { stdin: new Uint8Array(0), maxOutputBytes, seed: new Uint8Array(32), virtualTimeMs: 0 },
    (cost) => {
      charged += cost;
    },
    () => {
      stopped++;
    },
  );
  const out = (host.imports['wasi:cli/stdout'] as { getStdout(): Out }).getStdout();
  return { host, out, charged: () => charged, stopped: () => stopped };
}

describe('preview2 output streams', () => {
  it('refuses a write above the check-write permit, storing nothing but charging its bytes', () => {
    const { host, out, charged } = setup(1 << 20);
    expect(() => out.write(new Uint8Array(1))).toThrow(); // no permit yet
    expect(out.checkWrite()).toBe(BigInt(MAX_WRITE_PERMIT));
    const before = charged();
    expect(() => out.write(new Uint8Array(MAX_WRITE_PERMIT + 1))).toThrow();
    expect(charged() - before).toBe(HOST_CALL_GAS + IO_BYTE_GAS * (MAX_WRITE_PERMIT + 1));
    out.write(new Uint8Array(100)); // within the permit
    expect(() => out.write(new Uint8Array(MAX_WRITE_PERMIT - 99))).toThrow(); // permit used up
    expect(host.stdout()).toHaveLength(100);
  });

  it('charges every byte handed over, also past the cap, and stops storing at the cap', () => {
    const { host, out, charged, stopped } = setup(1000);
    const before = charged();
    expect(() => out.blockingWriteAndFlush(new Uint8Array(5000))).toThrow(OutputLimitSignal);
    expect(charged() - before).toBe(HOST_CALL_GAS + IO_BYTE_GAS * 5000);
    expect(stopped()).toBe(1);
    expect(() => out.blockingWriteAndFlush(new Uint8Array(5000))).toThrow(OutputLimitSignal);
    expect(charged() - before).toBe(2 * (HOST_CALL_GAS + IO_BYTE_GAS * 5000));
    expect(host.stdout()).toHaveLength(1000);
    expect(host.outputExhausted()).toBe(true);
  });
});
