// The sandbox's deny-by-default WASI preview2 host for jco-transpiled components (jco's
// preview2-shim is not a sandbox: it passes the host env/argv, preopens, network and exits the
// process). Same rules as preview1: only stdin/stdout/stderr; no environment, arguments,
// preopens or terminals; virtual clocks; seeded random bytes. Runs inside the component worker.
// Interface keys are unversioned because that is how jco's generated code looks them up.
import { Sha256CounterStream } from './sha256.ts';
import {
  CLOCK_TICK_NS,
  ExitSignal,
  HOST_CALL_GAS,
  IO_BYTE_GAS,
  OutputLimitSignal,
  type Preview1Config,
  RANDOM_BYTE_GAS,
} from './wasi-preview1.ts';

export interface Preview2Host {
  readonly imports: Record<string, Record<string, unknown>>;
  stdout(): Uint8Array;
  stderr(): Uint8Array;
  /** True once a write hit the output cap (the outcome is then ERR_COMPUTE_OUTPUT_EXHAUSTED). */
  outputExhausted(): boolean;
}

/** The interfaces this host provides; a component importing anything else is rejected. */
export const PREVIEW2_INTERFACES: readonly string[] = [
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/wall-clock',
  'wasi:clocks/monotonic-clock',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
];

/** `wasi:cli/stdout@0.2.3` → `wasi:cli/stdout`. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

const CLOSED = { tag: 'closed' } as const;

/** Largest random buffer one call may ask the host to allocate. */
export const MAX_RANDOM_BYTES_PER_CALL = 1 << 20;

/**
 * `charge(cost)` is called before the work it pays for (docs/spec/sandbox.md §Host-call costs):
 * every host function and method costs the base on entry, stream reads and writes and random
 * bytes their bytes before they are produced; it throws to end the run when the gas is gone.
 *
 * Longer than ~80 lines on purpose: a factory whose body is the per-run state and the interface
 * methods closing over it; each method is short.
 */
export function createPreview2Host(config: Preview1Config, charge: (cost: number) => void): Preview2Host {
  let stdinPos = 0;
  let outputBytes = 0;
  let exhausted = false;
  const chunks: Uint8Array[][] = [[], []];
  let clockReads = 0n;
  const random = new Sha256CounterStream(config.seed);
  const originNs = BigInt(config.virtualTimeMs) * 1_000_000n;
  /** Wraps a host function: the base is charged on entry. */
  const metered =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      charge(HOST_CALL_GAS);
      return fn(...args);
    };
  const tick = (): bigint => {
    clockReads += 1n;
    return clockReads * CLOCK_TICK_NS;
  };
  const randomBytes = (len: bigint): Uint8Array => {
    // The length is guest-controlled: never let it size a host allocation beyond the cap.
    if (len > BigInt(MAX_RANDOM_BYTES_PER_CALL)) throw new RangeError('random request too large');
    charge(RANDOM_BYTE_GAS * Number(len));
    const out = new Uint8Array(Number(len));
    random.fill(out);
    return out;
  };
  const randomU64 = (): bigint => new DataView(randomBytes(8n).buffer).getBigUint64(0, true);

  class IoError {
    toDebugString(): string {
      return 'error';
    }
  }
  class Pollable {
    ready(): boolean {
      charge(HOST_CALL_GAS);
      return true;
    }
    block(): void {
      charge(HOST_CALL_GAS);
    }
  }
  class InputStream {
    read(len: bigint): Uint8Array {
      charge(HOST_CALL_GAS);
      if (stdinPos >= config.stdin.length) throw CLOSED;
      const n = Math.min(Number(len), config.stdin.length - stdinPos);
      charge(IO_BYTE_GAS * n);
      const out = config.stdin.slice(stdinPos, stdinPos + n);
      stdinPos += n;
      return out;
    }
    blockingRead(len: bigint): Uint8Array {
      return this.read(len);
    }
    skip(len: bigint): bigint {
      return BigInt(this.read(len).length);
    }
    blockingSkip(len: bigint): bigint {
      return this.skip(len);
    }
    subscribe(): Pollable {
      charge(HOST_CALL_GAS);
      return new Pollable();
    }
  }
  class OutputStream {
    readonly #stream: number;
    constructor(stream: number) {
      this.#stream = stream;
    }
    checkWrite(): bigint {
      charge(HOST_CALL_GAS);
      return BigInt(Math.max(1, Math.min(65536, config.maxOutputBytes - outputBytes)));
    }
    write(contents: Uint8Array): void {
      charge(HOST_CALL_GAS);
      const room = config.maxOutputBytes - outputBytes;
      const take = contents.length <= room ? contents : contents.subarray(0, room);
      charge(IO_BYTE_GAS * take.length);
      (chunks[this.#stream] as Uint8Array[]).push(take.slice());
      outputBytes += take.length;
      if (take.length < contents.length) {
        // The glue lowers a thrown value as the call's stream-error, so the guest sees the
        // stream close; the flag makes the outcome ERR_COMPUTE_OUTPUT_EXHAUSTED whatever it does next.
        exhausted = true;
        throw new OutputLimitSignal();
      }
    }
    blockingWriteAndFlush(contents: Uint8Array): void {
      this.write(contents);
    }
    writeZeroes(len: bigint): void {
      // Allocate at most one byte past the remaining room: enough to trip the cap. (The write
      // charges the base and the bytes; the allocation is paid by the same byte count.)
      const room = BigInt(config.maxOutputBytes - outputBytes);
      this.write(new Uint8Array(Number(len > room ? room + 1n : len)));
    }
    blockingWriteZeroesAndFlush(len: bigint): void {
      this.writeZeroes(len);
    }
    flush(): void {
      charge(HOST_CALL_GAS);
    }
    blockingFlush(): void {
      charge(HOST_CALL_GAS);
    }
    subscribe(): Pollable {
      charge(HOST_CALL_GAS);
      return new Pollable();
    }
  }
  const stdout = new OutputStream(0);
  const stderr = new OutputStream(1);
  const stdin = new InputStream();
  class Descriptor {}
  class DirectoryEntryStream {}
  class TerminalInput {}
  class TerminalOutput {}

  const imports: Record<string, Record<string, unknown>> = {
    'wasi:cli/environment': { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
    'wasi:cli/exit': {
      exit: (status: { tag: string }) => {
        throw new ExitSignal(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number) => {
        throw new ExitSignal(code);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/wall-clock': {
      now: () => {
        const ns = originNs + tick();
        return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: Number(CLOCK_TICK_NS) }),
    },
    'wasi:clocks/monotonic-clock': {
      now: () => tick(),
      resolution: () => CLOCK_TICK_NS,
      subscribeInstant: () => new Pollable(),
      subscribeDuration: () => new Pollable(),
    },
    // No preopened directories, so no Descriptor can ever be obtained.
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll: (list: readonly unknown[]) => {
        charge(list.length);
        return Uint32Array.from(list.keys());
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
  };
  // Every host function costs the base on entry (methods of the resources charge it themselves).
  const resources = new Set<unknown>([
    TerminalInput,
    TerminalOutput,
    Descriptor,
    DirectoryEntryStream,
    IoError,
    Pollable,
    InputStream,
    OutputStream,
  ]);
  for (const iface of Object.values(imports)) {
    for (const [name, value] of Object.entries(iface)) {
      if (typeof value === 'function' && !resources.has(value))
        iface[name] = metered(value as (...args: unknown[]) => unknown);
    }
  }
  const concat = (parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  };
  return {
    imports,
    stdout: () => concat(chunks[0] as Uint8Array[]),
    stderr: () => concat(chunks[1] as Uint8Array[]),
    outputExhausted: () => exhausted,
  };
}
