// The sandbox's own deny-by-default `wasi_snapshot_preview1` host (Node's `node:wasi` is not meant
// for untrusted code). Only stdin/stdout/stderr exist; args and environment are empty; clocks are
// virtual; random bytes come from a seeded deterministic stream; everything touching the outside
// (paths, sockets, preopens, signals) answers with an errno. Runs inside the worker.
import { Sha256CounterStream } from './sha256.ts';
import { ERRNO, WASI_PREVIEW1_SIGNATURES } from './wasi-abi.ts';

/** A guest pointer or length outside linear memory, or an unbound host — detected before any effect: EFAULT. */
class MemoryFault extends Error {
  constructor() {
    super('out of bounds');
  }
}

/** Thrown by `proc_exit`: ends the run with the given exit code. */
export class ExitSignal {
  readonly exitCode: number;
  constructor(exitCode: number) {
    this.exitCode = exitCode;
  }
}

/** Thrown by `fd_write` when stdout + stderr would pass the output cap (ERR_COMPUTE_OUTPUT_EXHAUSTED). */
export class OutputLimitSignal {}

/** Thrown by a host call whose charge takes the gas counter below zero (ERR_COMPUTE_GAS_EXHAUSTED). */
export class GasExhaustedSignal {}

export interface Preview1Config {
  readonly stdin: Uint8Array;
  readonly maxOutputBytes: number;
  readonly seed: Uint8Array;
  /** Virtual wall-clock origin (Unix ms) the guest's realtime clock starts from. */
  readonly virtualTimeMs: number;
}

export interface Preview1Host {
  readonly imports: Record<string, (...args: never[]) => number | undefined>;
  /** The guest's memory and its gas counter (`__helm_gas`); until bound every call is EFAULT. */
  bind(memory: WebAssembly.Memory | undefined, gas: WebAssembly.Global): void;
  stdout(): Uint8Array;
  stderr(): Uint8Array;
}

/** Most iovecs one fd_read/fd_write call may pass (POSIX IOV_MAX); more is EINVAL. */
export const MAX_IOVS = 1024;

/** Virtual clocks advance by this many nanoseconds per clock read. */
export const CLOCK_TICK_NS = 1000n;

// Host-call costs (docs/spec/sandbox.md §Host-call costs). A host call is charged on the guest's
// gas counter before the work it pays for: on entry the base (plus, for fd_read / fd_write, every
// iovec, before the iovec array is read), then the per-byte part once every pointer is checked and
// before any effect. A charge that takes the counter below zero ends the run (GasExhaustedSignal)
// before the work it would pay for.

/** Gas every WASI call costs when it is entered, whatever it then does. */
export const HOST_CALL_GAS = 100;
/** Gas per iovec of an `fd_read` / `fd_write`. */
export const IOVEC_GAS = 20;
/** Gas per byte `fd_read` / `fd_write` copies. */
export const IO_BYTE_GAS = 1;
/** Gas per byte `random_get` produces. */
export const RANDOM_BYTE_GAS = 16;
/** Largest `random_get` (bytes); a larger request is EINVAL and has no effect. */
export const MAX_RANDOM_BYTES = 65_536;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHT_FD_READ = 0x2n;
const RIGHT_FD_WRITE = 0x40n;

/** One output stream: a buffer grown by doubling (never past what was written × 2). */
class Sink {
  private buf = new Uint8Array(0);
  length = 0;

  append(src: Uint8Array): void {
    const need = this.length + src.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 256));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(src, this.length);
    this.length = need;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

type Imports = Record<string, (...args: never[]) => number | undefined>;

const ptr = (v: number): number => v >>> 0;

/**
 * The per-run state every WASI call shares: the guest's memory and gas counter (once bound) and
 * views of the memory, re-made when memory.grow replaces its buffer.
 */
class Guest {
  memory: WebAssembly.Memory | undefined;
  gas: WebAssembly.Global | undefined;
  private viewed: ArrayBuffer | undefined;
  dv = new DataView(new ArrayBuffer(0));
  u8 = new Uint8Array(0);
  /** [ptr0, len0, ptr1, len1, …] of the call being served (reused: no allocation per call). */
  readonly iov = new Uint32Array(2 * MAX_IOVS);

  /** Subtracts `cost` from the guest's counter; below zero the run ends before any effect. */
  charge(cost: number): void {
    const gas = this.gas;
    if (gas === undefined) throw new MemoryFault(); // an unbound host does nothing: no effect happened
    const left = (gas.value as bigint) - BigInt(cost);
    gas.value = left;
    if (left < 0n) throw new GasExhaustedSignal();
  }

  view(): DataView {
    const memory = this.memory;
    if (memory === undefined) throw new MemoryFault(); // no memory: every pointer is out of bounds
    const buffer = memory.buffer;
    if (buffer !== this.viewed) {
      this.viewed = buffer;
      this.dv = new DataView(buffer);
      this.u8 = new Uint8Array(buffer);
    }
    return this.dv;
  }

  /** Throws (EFAULT) unless [ptr, ptr + len) lies inside linear memory. */
  check(p: number, len: number): void {
    this.view();
    if (p + len > this.u8.length) throw new MemoryFault();
  }

  /**
   * The only ways the host stores a number into guest memory: each checks its own pointer, so a
   * store can never fail half-way with an engine RangeError. A call with several outputs still
   * checks all of them first (no effect before the last check), then stores.
   */
  setU32(p: number, value: number): void {
    this.check(p, 4);
    this.dv.setUint32(p, value, true);
  }

  setU64(p: number, value: bigint): void {
    this.check(p, 8);
    this.dv.setBigUint64(p, value, true);
  }

  bytes(p: number, len: number): Uint8Array {
    this.check(p, len);
    return this.u8.subarray(p, p + len);
  }

  /**
   * Reads and checks a whole iovec array before anything is done with it: the array itself and
   * every buffer must lie inside memory. The pointers and lengths are copied out now (into `iov`),
   * so a later write into guest memory cannot change which buffers the call uses. Returns the
   * total length.
   */
  iovecs(iovs: number, count: number): number {
    const base = ptr(iovs);
    this.check(base, count * 8);
    const { dv, iov } = this;
    const size = this.u8.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const p = dv.getUint32(base + i * 8, true);
      const len = dv.getUint32(base + i * 8 + 4, true);
      if (p + len > size) throw new MemoryFault();
      iov[2 * i] = p;
      iov[2 * i + 1] = len;
      total += len;
    }
    return total;
  }
}

/** A WASI call: `cost(...args)` is charged on entry (default: the base); a bad pointer is EFAULT. */
function host<A extends number[]>(
  g: Guest,
  fn: (...args: A) => number,
  cost: (...args: A) => number = () => HOST_CALL_GAS,
): (...args: A) => number {
  return (...args: A): number => {
    try {
      g.charge(cost(...args));
      return fn(...args);
    } catch (e) {
      // Only the host's own bounds checks mean EFAULT. Anything else (a JS stack overflow is a
      // RangeError too) may strike after an effect, so it is never reported as a clean FAULT:
      // it propagates and ends the run.
      if (e instanceof MemoryFault) return ERRNO.FAULT;
      throw e;
    }
  };
}

/** Entry cost of fd_read / fd_write: the base, plus every iovec when the count is acceptable. */
const ioCost = (_fd: number, _iovs: number, iovsLen: number): number =>
  HOST_CALL_GAS + (iovsLen >>> 0 > MAX_IOVS ? 0 : IOVEC_GAS * (iovsLen >>> 0));

const isStdio = (fd: number): boolean => fd === STDIN || fd === STDOUT || fd === STDERR;

/** Empty arguments and environment. */
function argsAndEnviron(g: Guest): Imports {
  const zeroSizes = host(g, (countPtr: number, sizePtr: number) => {
    g.check(ptr(countPtr), 4);
    g.check(ptr(sizePtr), 4);
    g.setU32(ptr(countPtr), 0);
    g.setU32(ptr(sizePtr), 0);
    return ERRNO.SUCCESS;
  });
  const success = host(g, () => ERRNO.SUCCESS);
  return { args_get: success, args_sizes_get: zeroSizes, environ_get: success, environ_sizes_get: zeroSizes };
}

/** Virtual clocks: every read advances them by CLOCK_TICK_NS; the realtime one starts at the origin. */
function clocks(g: Guest, virtualTimeMs: number): Imports {
  let clockReads = 0n;
  const realtimeOriginNs = BigInt(virtualTimeMs) * 1_000_000n;
  return {
    clock_res_get: host(g, (id: number, resPtr: number) => {
      if (id < 0 || id > 3) return ERRNO.INVAL;
      g.setU64(ptr(resPtr), CLOCK_TICK_NS);
      return ERRNO.SUCCESS;
    }),
    clock_time_get: host(g, (id: number, _precision: number, timePtr: number) => {
      // (the precision argument is an i64, i.e. a BigInt; it is ignored)
      if (id < 0 || id > 3) return ERRNO.INVAL;
      g.check(ptr(timePtr), 8);
      clockReads += 1n;
      const elapsed = clockReads * CLOCK_TICK_NS;
      g.setU64(ptr(timePtr), id === 0 ? realtimeOriginNs + elapsed : elapsed);
      return ERRNO.SUCCESS;
    }),
  };
}

/** `fd_read` of stdin (the run's input, read once). */
function fdRead(g: Guest, stdin: Uint8Array): Imports[string] {
  let stdinPos = 0;
  return host(
    g,
    (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
      if (fd !== STDIN) return ERRNO.BADF;
      const count = iovsLen >>> 0;
      if (count > MAX_IOVS) return ERRNO.INVAL;
      const total = g.iovecs(iovs, count);
      g.check(ptr(nreadPtr), 4);
      const n = Math.min(total, stdin.length - stdinPos);
      g.charge(IO_BYTE_GAS * n);
      // Every pointer is valid and the call is paid for: now the effects.
      for (let i = 0, left = n; left > 0; i += 2) {
        const take = Math.min(g.iov[i + 1] as number, left);
        g.u8.set(stdin.subarray(stdinPos, stdinPos + take), g.iov[i] as number);
        stdinPos += take;
        left -= take;
      }
      g.setU32(ptr(nreadPtr), n);
      return ERRNO.SUCCESS;
    },
    ioCost,
  );
}

/** `fd_write` to stdout or stderr, both counted against the output cap. */
function fdWrite(g: Guest, maxOutputBytes: number, out: readonly [Sink, Sink]): Imports[string] {
  let outputBytes = 0;
  return host(
    g,
    (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
      if (fd !== STDOUT && fd !== STDERR) return ERRNO.BADF;
      const count = iovsLen >>> 0;
      if (count > MAX_IOVS) return ERRNO.INVAL;
      const total = g.iovecs(iovs, count);
      g.check(ptr(nwrittenPtr), 4);
      const n = Math.min(total, maxOutputBytes - outputBytes);
      g.charge(IO_BYTE_GAS * n);
      // Every pointer is valid and the call is paid for: now the effects.
      const sink = out[fd - 1] as Sink;
      for (let i = 0, left = n; left > 0; i += 2) {
        const take = Math.min(g.iov[i + 1] as number, left);
        const from = g.iov[i] as number;
        sink.append(g.u8.subarray(from, from + take));
        left -= take;
      }
      outputBytes += n;
      // The write that passes the cap stores the bytes up to it and ends the run.
      if (n < total) throw new OutputLimitSignal();
      g.setU32(ptr(nwrittenPtr), n);
      return ERRNO.SUCCESS;
    },
    ioCost,
  );
}

/** The fd calls: stdin/stdout/stderr are character devices that read and write; nothing else exists. */
function fds(g: Guest, config: Preview1Config, out: readonly [Sink, Sink]): Imports {
  const denyFd = (errnoForStdio: number) =>
    host(g, (fd: number) => (isStdio(fd) ? errnoForStdio : ERRNO.BADF));
  const answer = (errno: number) => host(g, () => errno);
  return {
    fd_read: fdRead(g, config.stdin),
    fd_write: fdWrite(g, config.maxOutputBytes, out),
    fd_fdstat_get: host(g, (fd: number, statPtr: number) => {
      if (!isStdio(fd)) return ERRNO.BADF;
      const p = ptr(statPtr);
      g.bytes(p, 24).fill(0);
      g.u8[p] = FILETYPE_CHARACTER_DEVICE;
      g.setU64(p + 8, fd === STDIN ? RIGHT_FD_READ : RIGHT_FD_WRITE);
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
    fd_renumber: answer(ERRNO.NOTSUP),
    // No preopened directories: wasi-libc probes fds from 3 until EBADF.
    fd_prestat_get: answer(ERRNO.BADF),
    fd_prestat_dir_name: answer(ERRNO.BADF),
  };
}

/** Process calls: exit, no signals or polling, and a seeded deterministic random stream. */
function processCalls(g: Guest, seed: Uint8Array): Imports {
  const random = new Sha256CounterStream(seed);
  return {
    poll_oneoff: host(g, () => ERRNO.NOTSUP),
    proc_exit: host(g, (code: number) => {
      throw new ExitSignal(code >>> 0);
    }),
    proc_raise: host(g, () => ERRNO.PERM),
    sched_yield: host(g, () => ERRNO.SUCCESS),
    random_get: host(g, (bufPtr: number, len: number) => {
      const n = len >>> 0;
      if (n > MAX_RANDOM_BYTES) return ERRNO.INVAL;
      const target = g.bytes(ptr(bufPtr), n);
      g.charge(RANDOM_BYTE_GAS * n);
      random.fill(target);
      return ERRNO.SUCCESS;
    }),
  };
}

export function createPreview1Host(config: Preview1Config): Preview1Host {
  const g = new Guest();
  const out = [new Sink(), new Sink()] as const;
  const impl: Imports = {
    ...argsAndEnviron(g),
    ...clocks(g, config.virtualTimeMs),
    ...fds(g, config, out),
    ...processCalls(g, config.seed),
  };
  // Every path_* and sock_* call is outside the sandbox's capabilities.
  for (const name of Object.keys(WASI_PREVIEW1_SIGNATURES)) {
    if (name.startsWith('path_') || name.startsWith('sock_')) impl[name] = host(g, () => ERRNO.NOTCAPABLE);
  }
  return {
    imports: impl,
    bind(m, counter) {
      g.memory = m;
      g.gas = counter;
    },
    stdout: () => out[0].bytes(),
    stderr: () => out[1].bytes(),
  };
}
