// The sandbox's own deny-by-default `wasi_snapshot_preview1` host (Node's `node:wasi` is not meant
// for untrusted code). Only stdin/stdout/stderr exist; args and environment are empty; clocks are
// virtual; random bytes come from a seeded deterministic stream; everything touching the outside
// (paths, sockets, preopens, signals) answers with an errno. Runs inside the worker.
import { Sha256CounterStream } from './sha256.ts';
import { ERRNO, WASI_PREVIEW1_SIGNATURES } from './wasi-abi.ts';

/** Thrown by `proc_exit`: ends the run with the given exit code. */
export class ExitSignal {
  readonly exitCode: number;
  constructor(exitCode: number) {
    this.exitCode = exitCode;
  }
}

/** Thrown by `fd_write` when stdout + stderr would pass the output cap (ERR_COMPUTE_OUTPUT_EXHAUSTED). */
export class OutputLimitSignal {}

export interface Preview1Config {
  readonly stdin: Uint8Array;
  readonly maxOutputBytes: number;
  readonly seed: Uint8Array;
  /** Virtual wall-clock origin (Unix ms) the guest's realtime clock starts from. */
  readonly virtualTimeMs: number;
}

export interface Preview1Host {
  readonly imports: Record<string, (...args: never[]) => number | undefined>;
  bind(memory: WebAssembly.Memory | undefined): void;
  stdout(): Uint8Array;
  stderr(): Uint8Array;
}

/** Most iovecs one fd_read/fd_write call may pass (POSIX IOV_MAX); more is EINVAL. */
export const MAX_IOVS = 1024;

/** Virtual clocks advance by this many nanoseconds per clock read. */
export const CLOCK_TICK_NS = 1000n;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHT_FD_READ = 0x2n;
const RIGHT_FD_WRITE = 0x40n;

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export function createPreview1Host(config: Preview1Config): Preview1Host {
  let memory: WebAssembly.Memory | undefined;
  let stdinPos = 0;
  let outputBytes = 0;
  const out: Uint8Array[][] = [[], []];
  const outLen = [0, 0];
  let clockReads = 0n;
  const random = new Sha256CounterStream(config.seed);
  const realtimeOriginNs = BigInt(config.virtualTimeMs) * 1_000_000n;

  const view = (): DataView => {
    if (memory === undefined) throw new RangeError('no memory');
    return new DataView(memory.buffer);
  };
  const bytes = (ptr: number, len: number): Uint8Array => {
    if (memory === undefined) throw new RangeError('no memory');
    const buf = memory.buffer;
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) throw new RangeError('out of bounds');
    return new Uint8Array(buf, ptr, len);
  };
  // Host functions read guest pointers; a bad pointer is EFAULT, never a host crash.
  const guarded =
    <A extends number[]>(fn: (...args: A) => number) =>
    (...args: A): number => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof RangeError) return ERRNO.FAULT;
        throw e;
      }
    };
  const ptr = (v: number): number => v >>> 0;
  const isStdio = (fd: number): boolean => fd === STDIN || fd === STDOUT || fd === STDERR;
  const denyFd = (errnoForStdio: number) => (fd: number) => (isStdio(fd) ? errnoForStdio : ERRNO.BADF);

  const zeroSizes = guarded((countPtr: number, sizePtr: number) => {
    const v = view();
    v.setUint32(ptr(countPtr), 0, true);
    v.setUint32(ptr(sizePtr), 0, true);
    return ERRNO.SUCCESS;
  });

  const impl: Record<string, (...args: never[]) => number | undefined> = {
    args_get: () => ERRNO.SUCCESS,
    args_sizes_get: zeroSizes,
    environ_get: () => ERRNO.SUCCESS,
    environ_sizes_get: zeroSizes,
    clock_res_get: guarded((id: number, resPtr: number) => {
      if (id < 0 || id > 3) return ERRNO.INVAL;
      view().setBigUint64(ptr(resPtr), CLOCK_TICK_NS, true);
      return ERRNO.SUCCESS;
    }),
    clock_time_get: guarded((id: number, _precision: number, timePtr: number) => {
      // (the precision argument is an i64, i.e. a BigInt; it is ignored)
      if (id < 0 || id > 3) return ERRNO.INVAL;
      clockReads += 1n;
      const elapsed = clockReads * CLOCK_TICK_NS;
      view().setBigUint64(ptr(timePtr), id === 0 ? realtimeOriginNs + elapsed : elapsed, true);
      return ERRNO.SUCCESS;
    }),
    fd_read: guarded((fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
      if (fd !== STDIN) return ERRNO.BADF;
      if (iovsLen >>> 0 > MAX_IOVS) return ERRNO.INVAL;
      const v = view();
      let n = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const base = ptr(iovs) + i * 8;
        const buf = v.getUint32(base, true);
        const len = v.getUint32(base + 4, true);
        const chunk = config.stdin.subarray(stdinPos, stdinPos + len);
        bytes(buf, chunk.length).set(chunk);
        stdinPos += chunk.length;
        n += chunk.length;
        if (chunk.length < len) break;
      }
      v.setUint32(ptr(nreadPtr), n, true);
      return ERRNO.SUCCESS;
    }),
    fd_write: guarded((fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      if (fd !== STDOUT && fd !== STDERR) return ERRNO.BADF;
      if (iovsLen >>> 0 > MAX_IOVS) return ERRNO.INVAL;
      const v = view();
      const stream = fd - 1;
      let n = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const base = ptr(iovs) + i * 8;
        const data = bytes(v.getUint32(base, true), v.getUint32(base + 4, true));
        const room = config.maxOutputBytes - outputBytes;
        const take = data.length <= room ? data : data.subarray(0, room);
        (out[stream] as Uint8Array[]).push(take.slice());
        outLen[stream] = (outLen[stream] as number) + take.length;
        outputBytes += take.length;
        n += take.length;
        if (take.length < data.length) throw new OutputLimitSignal();
      }
      v.setUint32(ptr(nwrittenPtr), n, true);
      return ERRNO.SUCCESS;
    }),
    fd_fdstat_get: guarded((fd: number, statPtr: number) => {
      if (!isStdio(fd)) return ERRNO.BADF;
      const v = view();
      const p = ptr(statPtr);
      bytes(p, 24).fill(0);
      v.setUint8(p, FILETYPE_CHARACTER_DEVICE);
      v.setBigUint64(p + 8, fd === STDIN ? RIGHT_FD_READ : RIGHT_FD_WRITE, true);
      return ERRNO.SUCCESS;
    }),
    fd_close: denyFd(ERRNO.NOTSUP),
    fd_seek: denyFd(ERRNO.SPIPE),
    fd_tell: denyFd(ERRNO.SPIPE),
    fd_advise: denyFd(ERRNO.NOTSUP),
    fd_allocate: denyFd(ERRNO.NOTSUP),
    fd_datasync: denyFd(ERRNO.NOTSUP),
    fd_sync: denyFd(ERRNO.NOTSUP),
    fd_fdstat_set_flags: denyFd(ERRNO.NOTSUP),
    fd_fdstat_set_rights: denyFd(ERRNO.NOTCAPABLE),
    fd_filestat_get: denyFd(ERRNO.NOTSUP),
    fd_filestat_set_size: denyFd(ERRNO.NOTSUP),
    fd_filestat_set_times: denyFd(ERRNO.NOTSUP),
    fd_pread: denyFd(ERRNO.SPIPE),
    fd_pwrite: denyFd(ERRNO.SPIPE),
    fd_readdir: denyFd(ERRNO.NOTSUP),
    fd_renumber: () => ERRNO.NOTSUP,
    // No preopened directories: wasi-libc probes fds from 3 until EBADF.
    fd_prestat_get: () => ERRNO.BADF,
    fd_prestat_dir_name: () => ERRNO.BADF,
    poll_oneoff: () => ERRNO.NOTSUP,
    proc_exit: (code: number) => {
      throw new ExitSignal(code >>> 0);
    },
    proc_raise: () => ERRNO.PERM,
    sched_yield: () => ERRNO.SUCCESS,
    random_get: guarded((bufPtr: number, len: number) => {
      random.fill(bytes(ptr(bufPtr), len >>> 0));
      return ERRNO.SUCCESS;
    }),
  };
  // Every path_* and sock_* call is outside the sandbox's capabilities.
  for (const name of Object.keys(WASI_PREVIEW1_SIGNATURES)) {
    if (name.startsWith('path_') || name.startsWith('sock_')) impl[name] = () => ERRNO.NOTCAPABLE;
  }

  return {
    imports: impl,
    bind(m) {
      memory = m;
    },
    stdout: () => concat(out[0] as Uint8Array[], outLen[0] as number),
    stderr: () => concat(out[1] as Uint8Array[], outLen[1] as number),
  };
}
