// Red team (I-SANDBOX-6 "Replay determinism"; sandbox.md §6: the random seed is
// SHA-256(… ‖ module id ‖ SHA-256(stdin)) and "the same module id, input, virtual_time_ms and limits
// give the same outcome"). `run` hashes the input for the seed synchronously, but hands the
// caller's Uint8Array itself to the isolation port, which posts it to the worker only after an
// `await` — the bytes are not snapshotted. A caller (or anything else holding the buffer: an
// embedder's pooled buffer, a SharedArrayBuffer another thread writes) that changes the input after
// `run()` returned its promise makes the guest read input B under the random stream of input A:
// the result is the output of neither run(A) nor run(B), so replaying the call reproduces nothing.
//
// Suggested fix: copy the input once at the top of `run` (`input.slice()`, refusing a view on a
// SharedArrayBuffer or copying it), and derive the seed from that copy.
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

// _start: read one byte of stdin, draw 4 random bytes, write the 5 bytes to stdout.
const ECHO_RANDOM = `(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $random (i32.const 101) (i32.const 4)))
    (i32.store (i32.const 4) (i32.const 5))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;

const limits = { gas: 100_000, timeout_ms: 10_000, max_output_bytes: 100 };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('red team: I-SANDBOX-6 a run is a function of the input it was given', () => {
  it('changing the input buffer after run() returned does not mix two inputs', async () => {
    const handle = await sandbox.register(await wat(ECHO_RANDOM));
    const a = hex((await sandbox.run(handle, Uint8Array.of(0x41), limits)).stdout);
    const b = hex((await sandbox.run(handle, Uint8Array.of(0x42), limits)).stdout);
    const input = Uint8Array.of(0x41);
    const pending = sandbox.run(handle, input, limits);
    input[0] = 0x42; // after the call, before the worker has the bytes
    const mixed = hex((await pending).stdout);
    // today: "42" + the random bytes of input "41" — neither run
    expect([a, b]).toContain(mixed);
  });
});
