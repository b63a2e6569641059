// Regenerates the ```vector block of docs/spec/sandbox.md §"Host-call costs" and compares it with
// the page, so the published host-call cost model cannot drift from the implementation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../src/internal/wasi-abi.ts';
import {
  createPreview1Host,
  HOST_CALL_GAS,
  IO_BYTE_GAS,
  IOVEC_GAS,
  MAX_IOVS,
  MAX_RANDOM_BYTES,
  RANDOM_BYTE_GAS,
} from '../src/internal/wasi-preview1.ts';

const SPEC = readFileSync(new URL('../../../docs/spec/sandbox.md', import.meta.url), 'utf8');

/** `name: value` lines of the first ```vector block after the "## Host-call costs" heading. */
function vector(): Record<string, string> {
  const section = SPEC.slice(SPEC.indexOf('## Host-call costs'));
  const block = /```vector\n([\s\S]*?)```/.exec(section);
  const out: Record<string, string> = {};
  for (const line of (block?.[1] ?? '').split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

const hex = (b: Uint8Array) => (b.length === 0 ? '-' : Buffer.from(b).toString('hex'));

/** Runs case `hN` of the vector; returns what the page states for it, recomputed. */
function regenerate(v: Record<string, string>, n: number): Record<string, string> {
  const [name = '', ...args] = (v[`h${n}_call`] as string).split(' ');
  const host = createPreview1Host({
    stdin: new TextEncoder().encode('abcdef'),
    maxOutputBytes: 1 << 20,
    seed: new Uint8Array(32),
    virtualTimeMs: 0,
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const START = 1n << 40n;
  const gas = new WebAssembly.Global({ value: 'i64', mutable: true }, START);
  host.bind(memory, gas);
  const view = new DataView(memory.buffer);
  new Uint8Array(memory.buffer).set(new TextEncoder().encode('hello world'), 64);
  let at = 16;
  for (const iov of (v[`h${n}_iovecs`] ?? '').split(' ').filter((s) => s !== '')) {
    const [pair = '', times = '1'] = iov.split('*');
    const [ptr, len] = pair.split('+').map(Number);
    for (let k = 0; k < Number(times); k++, at += 8) {
      view.setUint32(at, ptr as number, true);
      view.setUint32(at + 4, len as number, true);
    }
  }
  const fn = host.imports[name] as unknown as (...a: Array<number | bigint>) => number;
  // i64 parameters (path_open's rights) are BigInts at the JS boundary.
  const values = args.map((a, i) => (name === 'path_open' && (i === 5 || i === 6) ? BigInt(a) : Number(a)));
  const errno = fn(...values);
  const out: Record<string, string> = {
    [`h${n}_errno`]: String(errno),
    [`h${n}_gas`]: String(START - (gas.value as bigint)),
  };
  if (`h${n}_stdout_hex` in v) out[`h${n}_stdout_hex`] = hex(host.stdout());
  if (`h${n}_nread` in v)
    out[`h${n}_nread`] = errno === ERRNO.SUCCESS ? String(view.getUint32(8, true)) : '-';
  return out;
}

describe('docs/spec/sandbox.md §Host-call costs vector', () => {
  const v = vector();

  it('states the constants of the implementation', () => {
    expect(v).toMatchObject({
      host_call_gas: String(HOST_CALL_GAS),
      iovec_gas: String(IOVEC_GAS),
      io_byte_gas: String(IO_BYTE_GAS),
      random_byte_gas: String(RANDOM_BYTE_GAS),
      max_random_bytes: String(MAX_RANDOM_BYTES),
      max_iovecs: String(MAX_IOVS),
    });
  });

  it('states what every case charges and answers', () => {
    const cases = Object.keys(v).filter((k) => /^h\d+_call$/.test(k));
    expect(cases.length).toBeGreaterThanOrEqual(12);
    for (const key of cases) {
      const n = Number(key.slice(1, key.indexOf('_')));
      const stated = Object.fromEntries(
        Object.entries(v).filter(([k]) => k.startsWith(`h${n}_`) && k !== key && !k.endsWith('_iovecs')),
      );
      expect(regenerate(v, n), key).toEqual(stated);
    }
  });
});
