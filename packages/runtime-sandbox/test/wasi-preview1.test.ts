import { sha256 as referenceSha256 } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { Sha256CounterStream, sha256 } from '../src/internal/sha256.ts';
import { ERRNO, WASI_PREVIEW1_SIGNATURES } from '../src/internal/wasi-abi.ts';
import {
  CLOCK_TICK_NS,
  createPreview1Host,
  ExitSignal,
  OutputLimitSignal,
} from '../src/internal/wasi-preview1.ts';

type HostFn = (...args: Array<number | bigint>) => number | undefined;

function setup(stdin = new Uint8Array(0), maxOutputBytes = 1024, virtualTimeMs = 0) {
  const host = createPreview1Host({ stdin, maxOutputBytes, seed: new Uint8Array(32).fill(7), virtualTimeMs });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const gas = new WebAssembly.Global({ value: 'i64', mutable: true }, 1n << 40n);
  host.bind(memory, gas);
  const call = (name: string, ...args: Array<number | bigint>): number | undefined =>
    (host.imports[name] as unknown as HostFn)(...args);
  const view = () => new DataView(memory.buffer);
  const mem = () => new Uint8Array(memory.buffer);
  return { host, call, view, mem, memory, gas };
}

describe('deny-by-default WASI preview1 host', () => {
  it('implements every preview1 function and nothing else', () => {
    const { host } = setup();
    expect(Object.keys(host.imports).sort()).toEqual(Object.keys(WASI_PREVIEW1_SIGNATURES).sort());
  });

  it('has no arguments and no environment', () => {
    const { call, view } = setup();
    view().setUint32(100, 99, true);
    view().setUint32(104, 99, true);
    expect(call('environ_sizes_get', 100, 104)).toBe(ERRNO.SUCCESS);
    expect([view().getUint32(100, true), view().getUint32(104, true)]).toEqual([0, 0]);
    view().setUint32(100, 99, true);
    expect(call('args_sizes_get', 100, 104)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(100, true)).toBe(0);
    expect(call('environ_get', 200, 300)).toBe(ERRNO.SUCCESS);
    expect(call('args_get', 200, 300)).toBe(ERRNO.SUCCESS);
    expect(call('args_sizes_get', 70_000, 0)).toBe(ERRNO.FAULT);
  });

  it('denies every path, socket, preopen and signal call', () => {
    const { call } = setup();
    for (const name of Object.keys(WASI_PREVIEW1_SIGNATURES).filter((n) => /^(path|sock)_/.test(n))) {
      expect(call(name, 3, 0, 0, 0, 0, 0n, 0n, 0, 0), name).toBe(ERRNO.NOTCAPABLE);
    }
    expect(call('path_open', 3, 0, 0, 4, 0, 0n, 0n, 0, 100)).toBe(ERRNO.NOTCAPABLE);
    expect(call('fd_prestat_get', 3, 0)).toBe(ERRNO.BADF);
    expect(call('fd_prestat_dir_name', 3, 0, 0)).toBe(ERRNO.BADF);
    expect(call('proc_raise', 9)).toBe(ERRNO.PERM);
    expect(call('poll_oneoff', 0, 0, 0, 0)).toBe(ERRNO.NOTSUP);
    expect(call('fd_renumber', 1, 2)).toBe(ERRNO.NOTSUP);
    expect(call('sched_yield')).toBe(ERRNO.SUCCESS);
  });

  it('answers fd operations on stdio with an errno and on anything else with EBADF', () => {
    const { call } = setup();
    const expectations: Record<string, number> = {
      fd_close: ERRNO.NOTSUP,
      fd_seek: ERRNO.SPIPE,
      fd_tell: ERRNO.SPIPE,
      fd_advise: ERRNO.NOTSUP,
      fd_allocate: ERRNO.NOTSUP,
      fd_datasync: ERRNO.NOTSUP,
      fd_sync: ERRNO.NOTSUP,
      fd_fdstat_set_flags: ERRNO.NOTSUP,
      fd_fdstat_set_rights: ERRNO.NOTCAPABLE,
      fd_filestat_get: ERRNO.NOTSUP,
      fd_filestat_set_size: ERRNO.NOTSUP,
      fd_filestat_set_times: ERRNO.NOTSUP,
      fd_pread: ERRNO.SPIPE,
      fd_pwrite: ERRNO.SPIPE,
      fd_readdir: ERRNO.NOTSUP,
    };
    for (const [name, errno] of Object.entries(expectations)) {
      expect(call(name, 1, 0, 0, 0, 0), name).toBe(errno);
      expect(call(name, 3, 0, 0, 0, 0), name).toBe(ERRNO.BADF);
    }
    expect(call('fd_read', 1, 0, 0, 0)).toBe(ERRNO.BADF);
    expect(call('fd_write', 0, 0, 0, 0)).toBe(ERRNO.BADF);
    expect(call('fd_write', 3, 0, 0, 0)).toBe(ERRNO.BADF);
    expect(call('fd_fdstat_get', 5, 0)).toBe(ERRNO.BADF);
    expect(call('fd_read', 0, 0, 1025, 0)).toBe(ERRNO.INVAL);
    expect(call('fd_write', 1, 0, -1, 0)).toBe(ERRNO.INVAL);
  });

  it('describes stdio in fd_fdstat_get', () => {
    const { call, view } = setup();
    expect(call('fd_fdstat_get', 0, 64)).toBe(ERRNO.SUCCESS);
    expect(view().getUint8(64)).toBe(2);
    expect(view().getBigUint64(72, true)).toBe(2n);
    expect(call('fd_fdstat_get', 1, 64)).toBe(ERRNO.SUCCESS);
    expect(view().getBigUint64(72, true)).toBe(0x40n);
    expect(call('fd_fdstat_get', 2, 65_530)).toBe(ERRNO.FAULT);
  });

  it('reads stdin in order across calls and iovecs, then EOF', () => {
    const { call, view, mem } = setup(new TextEncoder().encode('hello world'));
    view().setUint32(0, 100, true);
    view().setUint32(4, 3, true);
    view().setUint32(8, 200, true);
    view().setUint32(12, 4, true);
    expect(call('fd_read', 0, 0, 2, 16)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(16, true)).toBe(7);
    expect(new TextDecoder().decode(mem().subarray(100, 103))).toBe('hel');
    expect(new TextDecoder().decode(mem().subarray(200, 204))).toBe('lo w');
    view().setUint32(4, 100, true);
    expect(call('fd_read', 0, 0, 2, 16)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(16, true)).toBe(4);
    expect(call('fd_read', 0, 0, 1, 16)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(16, true)).toBe(0);
    view().setUint32(0, 65_535, true);
    expect(call('fd_read', 0, 65_534, 1, 16)).toBe(ERRNO.FAULT);
  });

  it('writes stdout and stderr and enforces the output cap while writing', () => {
    const { host, call, view, mem } = setup(undefined, 10);
    mem().set(new TextEncoder().encode('abcdefgh'), 100);
    view().setUint32(0, 100, true);
    view().setUint32(4, 4, true);
    expect(call('fd_write', 1, 0, 1, 8)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(8, true)).toBe(4);
    expect(call('fd_write', 2, 0, 1, 8)).toBe(ERRNO.SUCCESS);
    view().setUint32(4, 8, true);
    expect(() => call('fd_write', 1, 0, 1, 8)).toThrow(OutputLimitSignal);
    expect(new TextDecoder().decode(host.stdout())).toBe('abcdab');
    expect(new TextDecoder().decode(host.stderr())).toBe('abcd');
    view().setUint32(0, 65_535, true);
    expect(call('fd_write', 1, 0, 1, 8)).toBe(ERRNO.FAULT);
  });

  it('serves virtual, deterministic clocks', () => {
    const { call, view } = setup(undefined, 0, 1_700_000_000_000);
    expect(call('clock_res_get', 0, 0)).toBe(ERRNO.SUCCESS);
    expect(view().getBigUint64(0, true)).toBe(CLOCK_TICK_NS);
    expect(call('clock_time_get', 0, 1n, 0)).toBe(ERRNO.SUCCESS);
    expect(view().getBigUint64(0, true)).toBe(1_700_000_000_000n * 1_000_000n + 1000n);
    expect(call('clock_time_get', 1, 1n, 0)).toBe(ERRNO.SUCCESS);
    expect(view().getBigUint64(0, true)).toBe(2000n);
    expect(call('clock_time_get', 7, 1n, 0)).toBe(ERRNO.INVAL);
    expect(call('clock_res_get', -1, 0)).toBe(ERRNO.INVAL);
    expect(call('clock_time_get', 0, 1n, 65_530)).toBe(ERRNO.FAULT);
  });

  it('draws random bytes from the seeded SHA-256 counter stream', () => {
    const a = setup();
    const b = setup();
    expect(a.call('random_get', 0, 40)).toBe(ERRNO.SUCCESS);
    expect(b.call('random_get', 0, 10)).toBe(ERRNO.SUCCESS);
    expect(b.call('random_get', 10, 30)).toBe(ERRNO.SUCCESS);
    expect(a.mem().subarray(0, 40)).toEqual(b.mem().subarray(0, 40));
    const seed = new Uint8Array(32).fill(7);
    const block0 = referenceSha256(Uint8Array.from([...seed, 0, 0, 0, 0, 0, 0, 0, 0]));
    const block1 = referenceSha256(Uint8Array.from([...seed, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(a.mem().subarray(0, 40)).toEqual(Uint8Array.from([...block0, ...block1.subarray(0, 8)]));
    expect(a.call('random_get', 65_530, 10)).toBe(ERRNO.FAULT);
  });

  it('ends the run on proc_exit', () => {
    const { call } = setup();
    expect(() => call('proc_exit', 3)).toThrow(ExitSignal);
    try {
      call('proc_exit', -1);
    } catch (e) {
      expect((e as ExitSignal).exitCode).toBe(0xffffffff);
    }
  });

  it('fails with EFAULT when no memory is bound', () => {
    const host = createPreview1Host({
      stdin: new Uint8Array(0),
      maxOutputBytes: 1,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    });
    expect((host.imports.random_get as unknown as HostFn)(0, 1)).toBe(ERRNO.FAULT);
    expect((host.imports.fd_write as unknown as HostFn)(1, 0, 1, 0)).toBe(ERRNO.FAULT);
  });
});

describe('sha256', () => {
  it('matches the reference implementation on assorted lengths', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff);
      expect(sha256(data)).toEqual(referenceSha256(data));
    }
    const stream = new Sha256CounterStream(new Uint8Array(1));
    const out = new Uint8Array(0);
    stream.fill(out);
    expect(out).toHaveLength(0);
  });
});
