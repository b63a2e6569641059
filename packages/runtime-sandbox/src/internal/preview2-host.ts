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
 * The per-run state of one component's host: its `charge` (see createPreview2Host), input
 * position, output and clocks.
 */
class Run {
  stdinPos = 0;
  outputBytes = 0;
  exhausted = false;
  readonly chunks: [Uint8Array[], Uint8Array[]] = [[], []];
  private clockReads = 0n;
  private readonly random: Sha256CounterStream;
  readonly config: Preview1Config;
  readonly charge: (cost: number) => void;
  /** Ends the run once the output cap is reached (the glue would turn a throw into a stream error). */
  readonly stop: () => void;

  constructor(config: Preview1Config, charge: (cost: number) => void, stop: () => void) {
    this.config = config;
    this.charge = charge;
    this.stop = stop;
    this.random = new Sha256CounterStream(config.seed);
  }

  /** Virtual time: every clock read advances it by CLOCK_TICK_NS. */
  tick(): bigint {
    this.clockReads += 1n;
    return this.clockReads * CLOCK_TICK_NS;
  }

  randomBytes(len: bigint): Uint8Array {
    // The length is guest-controlled: never let it size a host allocation beyond the cap.
    if (len > BigInt(MAX_RANDOM_BYTES_PER_CALL)) throw new RangeError('random request too large');
    this.charge(RANDOM_BYTE_GAS * Number(len));
    const out = new Uint8Array(Number(len));
    this.random.fill(out);
    return out;
  }

  randomU64(): bigint {
    return new DataView(this.randomBytes(8n).buffer).getBigUint64(0, true);
  }
}

/**
 * Thrown when a guest reaches host code outside §4: a resource constructor (a component can
 * declare `[constructor]pollable` in its own import types, which jco lowers to `new Pollable(…)`).
 * The outcome is SANDBOX_VIOLATION.
 */
export class ForbiddenHostCall extends Error {}

/**
 * Only this module creates resources: every constructor requires this token, which never leaves
 * the module, so a constructor the glue calls on the guest's behalf refuses before doing any work.
 */
const HOST: unique symbol = Symbol('preview2 host');

function refuseConstruction(token: unknown, resource: string): void {
  if (token !== HOST) throw new ForbiddenHostCall(`[constructor]${resource} is not provided`);
}

// The resources. Each method charges the base itself (host functions are wrapped by `metered`);
// each constructor is the host's only (refuseConstruction).
class IoError {
  readonly #run: Run;
  constructor(token: typeof HOST, run: Run) {
    refuseConstruction(token, 'error');
    this.#run = run;
  }
  toDebugString(): string {
    this.#run.charge(HOST_CALL_GAS);
    return 'error';
  }
}
/** Resources no call of this host returns (no preopens, no terminals): never constructed. */
class Descriptor {
  constructor() {
    refuseConstruction(undefined, 'descriptor');
  }
}
class DirectoryEntryStream {
  constructor() {
    refuseConstruction(undefined, 'directory-entry-stream');
  }
}
class TerminalInput {
  constructor() {
    refuseConstruction(undefined, 'terminal-input');
  }
}
class TerminalOutput {
  constructor() {
    refuseConstruction(undefined, 'terminal-output');
  }
}

class Pollable {
  readonly #run: Run;
  constructor(token: typeof HOST, run: Run) {
    refuseConstruction(token, 'pollable');
    this.#run = run;
  }
  ready(): boolean {
    this.#run.charge(HOST_CALL_GAS);
    return true;
  }
  block(): void {
    this.#run.charge(HOST_CALL_GAS);
  }
}

class InputStream {
  readonly #run: Run;
  constructor(token: typeof HOST, run: Run) {
    refuseConstruction(token, 'input-stream');
    this.#run = run;
  }
  read(len: bigint): Uint8Array {
    const run = this.#run;
    const stdin = run.config.stdin;
    run.charge(HOST_CALL_GAS);
    if (run.stdinPos >= stdin.length) throw CLOSED;
    const n = Math.min(Number(len), stdin.length - run.stdinPos);
    run.charge(IO_BYTE_GAS * n);
    const out = stdin.slice(run.stdinPos, run.stdinPos + n);
    run.stdinPos += n;
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
    this.#run.charge(HOST_CALL_GAS);
    return new Pollable(HOST, this.#run);
  }
}

/** Most bytes one check-write permits (and so one non-blocking write may pass). */
export const MAX_WRITE_PERMIT = 65_536;

class OutputStream {
  readonly #run: Run;
  readonly #stream: 0 | 1;
  /** What the last check-write permitted, less what was written since (wasi:io/streams `write`). */
  #permit = 0;
  constructor(token: typeof HOST, run: Run, stream: 0 | 1) {
    refuseConstruction(token, 'output-stream');
    this.#run = run;
    this.#stream = stream;
  }
  checkWrite(): bigint {
    const run = this.#run;
    run.charge(HOST_CALL_GAS);
    this.#permit = Math.max(1, Math.min(MAX_WRITE_PERMIT, run.config.maxOutputBytes - run.outputBytes));
    return BigInt(this.#permit);
  }
  /** Non-blocking write: at most what check-write permitted (WASI: a longer write is an error). */
  write(contents: Uint8Array): void {
    const run = this.#run;
    if (contents.length > this.#permit) {
      run.charge(HOST_CALL_GAS + IO_BYTE_GAS * contents.length);
      throw { tag: 'last-operation-failed', val: new IoError(HOST, this.#run) };
    }
    this.#permit -= contents.length;
    this.#store(contents);
  }
  /**
   * Stores a write's bytes up to the output cap. The glue copied all of `contents` out of guest
   * memory before calling: every byte the guest handed over is paid for, stored or not. Once
   * the cap is reached the run ends (`stop`): nothing is stored any more.
   */
  #store(contents: Uint8Array): void {
    const run = this.#run;
    run.charge(HOST_CALL_GAS + IO_BYTE_GAS * contents.length);
    if (run.exhausted) throw new OutputLimitSignal();
    const room = run.config.maxOutputBytes - run.outputBytes;
    const take = contents.length <= room ? contents : contents.subarray(0, room);
    run.chunks[this.#stream].push(take.slice());
    run.outputBytes += take.length;
    if (take.length < contents.length) {
      // The glue lowers a thrown value as the call's stream-error, so the guest sees the
      // stream close; the flag makes the outcome ERR_COMPUTE_OUTPUT_EXHAUSTED whatever it does next.
      run.exhausted = true;
      run.stop();
      throw new OutputLimitSignal();
    }
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.#store(contents);
  }
  writeZeroes(len: bigint): void {
    // Allocate at most one byte past the remaining room: enough to trip the cap. (The write
    // charges the base and the bytes; the allocation is paid by the same byte count.)
    const run = this.#run;
    const room = BigInt(run.config.maxOutputBytes - run.outputBytes);
    const n = len > room ? room + 1n : len;
    if (n > BigInt(this.#permit)) {
      this.#run.charge(HOST_CALL_GAS);
      throw { tag: 'last-operation-failed', val: new IoError(HOST, this.#run) };
    }
    this.write(new Uint8Array(Number(n)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    const room = BigInt(this.#run.config.maxOutputBytes - this.#run.outputBytes);
    this.#store(new Uint8Array(Number(len > room ? room + 1n : len)));
  }
  flush(): void {
    this.#run.charge(HOST_CALL_GAS);
  }
  blockingFlush(): void {
    this.#run.charge(HOST_CALL_GAS);
  }
  subscribe(): Pollable {
    this.#run.charge(HOST_CALL_GAS);
    return new Pollable(HOST, this.#run);
  }
}

/** Not wrapped by `metered`: the resources' methods charge the base themselves. */
const RESOURCES = new Set<unknown>([
  TerminalInput,
  TerminalOutput,
  Descriptor,
  DirectoryEntryStream,
  IoError,
  Pollable,
  InputStream,
  OutputStream,
]);

/**
 * The glue looks a guest's imports up by name — `iface[name]` for a function, `Class[name]` for a
 * static, `instance[name]` for a method, from names the component declares in its own import
 * types — so anything inherited would be host code outside §4, linked uncharged (`constructor`,
 * `toString`, `call`, …). Each resource class and its prototype therefore have no prototype and
 * no `constructor` link: only the methods written above resolve (`instanceof`, which the glue
 * uses to check a resource, does not need either).
 */
for (const resource of RESOURCES as Set<{ prototype: object }>) {
  delete (resource.prototype as { constructor?: unknown }).constructor;
  Object.setPrototypeOf(resource.prototype, null);
  Object.setPrototypeOf(resource, null);
}

/** A copy of `members` with no prototype (so only its own names resolve), frozen. */
function closed(members: Record<string, unknown>): Record<string, unknown> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, unknown>, members));
}

type Interfaces = Record<string, Record<string, unknown>>;

/** wasi:cli: no environment, arguments or terminals; the three standard streams; exit. */
function cli(run: Run): Interfaces {
  const stdin = new InputStream(HOST, run);
  const stdout = new OutputStream(HOST, run, 0);
  const stderr = new OutputStream(HOST, run, 1);
  return {
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
  };
}

/** wasi:clocks (virtual), wasi:filesystem (nothing to open), wasi:io, wasi:random (seeded). */
function clocksIoRandom(run: Run): Interfaces {
  const originNs = BigInt(run.config.virtualTimeMs) * 1_000_000n;
  const randomBytes = (len: bigint): Uint8Array => run.randomBytes(len);
  const randomU64 = (): bigint => run.randomU64();
  return {
    'wasi:clocks/wall-clock': {
      now: () => {
        const ns = originNs + run.tick();
        return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: Number(CLOCK_TICK_NS) }),
    },
    'wasi:clocks/monotonic-clock': {
      now: () => run.tick(),
      resolution: () => CLOCK_TICK_NS,
      subscribeInstant: () => new Pollable(HOST, run),
      subscribeDuration: () => new Pollable(HOST, run),
    },
    // No preopened directories, so no Descriptor can ever be obtained.
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll: (list: readonly unknown[]) => {
        run.charge(list.length);
        return Uint32Array.from(list.keys());
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * `charge(cost)` is called before the work it pays for (docs/spec/sandbox.md §Host-call costs):
 * every host function and method costs the base on entry, stream reads and writes and random
 * bytes their bytes before they are produced; it throws to end the run when the gas is gone.
 */
export function createPreview2Host(
  config: Preview1Config,
  charge: (cost: number) => void,
  stop: () => void = () => {},
): Preview2Host {
  const run = new Run(config, charge, stop);
  const all: Interfaces = { ...cli(run), ...clocksIoRandom(run) };
  // Every interface object, and the record of them, resolves only its own (§4) names.
  const imports = Object.create(null) as Interfaces;
  for (const [key, iface] of Object.entries(all)) {
    const members: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(iface)) {
      // Every host function costs the base on entry (methods of the resources charge it themselves).
      if (typeof value === 'function' && !RESOURCES.has(value)) {
        const fn = value as (...args: unknown[]) => unknown;
        members[name] = (...args: unknown[]): unknown => {
          charge(HOST_CALL_GAS);
          return fn(...args);
        };
      } else members[name] = value;
    }
    imports[key] = closed(members);
  }
  Object.freeze(imports);
  return {
    imports,
    stdout: () => concat(run.chunks[0]),
    stderr: () => concat(run.chunks[1]),
    outputExhausted: () => run.exhausted,
  };
}
