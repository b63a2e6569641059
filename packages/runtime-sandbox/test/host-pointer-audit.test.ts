// Class test for "every host function checks every pointer before any effect" (I-SANDBOX-3,
// sandbox.md §"Pointers before effects"): every preview1 function, called with pointers at and
// past the end of linear memory, answers an errno — never an engine error — and a call that
// answers FAULT has changed neither memory nor output. (The red team found clock_res_get writing
// through an unchecked pointer; this sweeps all of them.) Fixed seed, a few hundred calls.
import { describe, expect, it } from 'vitest';
import { ERRNO, WASI_PREVIEW1_SIGNATURES } from '../src/internal/wasi-abi.ts';
import { createPreview1Host } from '../src/internal/wasi-preview1.ts';

const PAGE = 65536;
const I32_VALUES = [0, 1, 2, 8, PAGE - 8, PAGE - 4, PAGE - 1, PAGE, 0x7fffffff, 0xfffffff0, 0xffffffff];

/** xorshift32: a fixed, reproducible sequence of argument picks. */
function picker(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('every preview1 host function checks its pointers before any effect', () => {
  const names = Object.keys(WASI_PREVIEW1_SIGNATURES).filter((n) => n !== 'proc_exit');
  for (const name of names) {
    it(name, () => {
      const params =
        (WASI_PREVIEW1_SIGNATURES[name] as string).split('->')[0]?.split(',').filter(Boolean) ?? [];
      const next = picker(0x9e3779b9 ^ name.length);
      for (let call = 0; call < 40; call++) {
        const host = createPreview1Host({
          stdin: new Uint8Array(64).fill(7),
          maxOutputBytes: 1 << 20,
          seed: new Uint8Array(32),
          virtualTimeMs: 0,
        });
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
        const view = new Uint8Array(memory.buffer);
        // iovec-like content everywhere: (ptr 16, len 8) pairs, so some calls get valid buffers
        for (let i = 0; i + 8 <= 256; i += 8) {
          new DataView(memory.buffer).setUint32(i, 16, true);
          new DataView(memory.buffer).setUint32(i + 4, 8, true);
        }
        host.bind(memory, new WebAssembly.Global({ value: 'i64', mutable: true }, 1n << 40n));
        const args = params.map((t) => {
          const v = I32_VALUES[next() % I32_VALUES.length] as number;
          return t === 'i64' ? BigInt(v) : v;
        });
        const before = view.slice();
        const fn = host.imports[name] as (...a: unknown[]) => number;
        let errno: number;
        try {
          errno = fn(...args);
        } catch (e) {
          throw new Error(`${name}(${args.join(', ')}) threw ${String(e)}`);
        }
        expect(typeof errno, `${name}(${args.join(', ')})`).toBe('number');
        if (errno === ERRNO.FAULT) {
          expect(Buffer.compare(Buffer.from(view), Buffer.from(before)), `${name} changed memory`).toBe(0);
          expect(host.stdout().length + host.stderr().length, `${name} wrote output`).toBe(0);
        }
      }
    });
  }
});
