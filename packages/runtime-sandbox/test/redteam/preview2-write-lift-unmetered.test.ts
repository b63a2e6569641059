// Red team (I-SANDBOX-3, sandbox.md §"Host-call costs" — "no host call does unbounded work for
// constant gas"; preview2: "IO_BYTE_GAS per byte a stream … write stores"). jco lowers
// `[method]output-stream.blocking-write-and-flush(list<u8>)` by copying the guest's whole buffer
// out of linear memory *before* the host is called — the committed fixture glue does exactly
// `var f=new Uint8Array(p.buffer.slice(l,l+d*1)); … c.blockingWriteAndFlush(f)` — and catches
// what the host throws (`errHandling: result-catch-handler`), so the guest just sees a stream
// error and carries on. The host then charges the base plus only the bytes it *stores* (up to the
// output room): once the output cap is reached, every further write of a full linear memory
// (64 MiB under the default cap) is a 64 MiB copy and allocation for 100 gas, as often as the
// guest likes. (Components built for wasm32-wasip2 call these functions directly, without the
// preview1 adapter's 4 KiB chunking.) Also, WASI says a write of more than `check-write` permits
// is an error; the host accepts any length.
//
// The glue below is jco's calling convention for that one import (lift = slice copy, host call,
// catch), run in-process by runComponent like test/component.test.ts does; `lifted` counts the
// bytes the lowering copied.
import { describe, expect, it } from 'vitest';
import { type InstantiateComponent, runComponent } from '../../src/internal/component-run.ts';
import { instrumentModule } from '../../src/internal/instrument.ts';
import { wat } from '../helpers/wat.ts';

const PAGES = 64; // 4 MiB of linear memory
const WRITE = PAGES * 65536;
const WRITES = 20;

const core = `(module
  (import "streams" "blocking-write-and-flush" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") ${PAGES})
  (func (export "go") (local $i i32)
    (loop $l
      (drop (call $write (i32.const 0) (i32.const ${WRITE})))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${WRITES}))))))`;

describe('red team: a preview2 stream write is paid for by the bytes the guest hands over', () => {
  it(`${WRITES} writes of ${WRITE} bytes past the output cap cost at least the bytes lifted / 16`, async () => {
    const module = new WebAssembly.Module(
      instrumentModule(await wat(core), {
        maxMemoryPages: 1024,
        maxTableElements: 1000,
        importPolicy: () => true,
        sharedGas: true, // as registerComponent instruments a component's core modules
      }).bytes,
    );
    let lifted = 0;
    const instantiate: InstantiateComponent = (getCoreModule, imports, instantiateCore) => {
      const stdout = (
        imports['wasi:cli/stdout'] as { getStdout(): { blockingWriteAndFlush(b: Uint8Array): void } }
      ).getStdout();
      let memory: WebAssembly.Memory | undefined;
      const write = (ptr: number, len: number): number => {
        // jco: `new Uint8Array(memory.buffer.slice(ptr, ptr + len * 1))`, then the host call
        const bytes = new Uint8Array((memory as WebAssembly.Memory).buffer.slice(ptr, ptr + len));
        lifted += bytes.length;
        try {
          stdout.blockingWriteAndFlush(bytes);
          return 0;
        } catch {
          return 1; // result-catch-handler: lowered as the call's stream-error
        }
      };
      const instance = instantiateCore(getCoreModule('w.core.wasm'), {
        streams: { 'blocking-write-and-flush': write },
      });
      memory = instance.exports.memory as WebAssembly.Memory;
      return { run: { run: () => (instance.exports.go as () => void)() } };
    };
    const r = runComponent(instantiate, {
      modules: { 'w.core.wasm': module },
      stdin: new Uint8Array(0),
      gas: 1e12,
      maxOutputBytes: 1 << 16,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    });
    expect(r.code).toBe('ERR_COMPUTE_OUTPUT_EXHAUSTED');
    expect(r.stdout).toHaveLength(1 << 16);
    // Every byte copied out of the guest is paid for (one per 16, the bulk-copy rate), except at
    // most the one write that ends the run.
    expect(16 * r.gas_used + WRITE).toBeGreaterThanOrEqual(lifted);
  });
});
