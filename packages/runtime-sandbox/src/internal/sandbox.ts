// The sandbox facade: register (validate → instrument → hash → compile once, cached) and run
// (worker pool, deadline, result mapping).
import { sha256 } from '@helm/crypto';
import { type Clock, systemClock } from './clock.js';
import { SandboxError } from './errors.js';
import type { GuestFailureCode } from './guest-run.js';
import {
  ImportViolationError,
  type InstrumentedModule,
  instrumentModule,
  WASM_PAGE_BYTES,
} from './instrument.js';
import { WorkerPool } from './pool.js';
import { WASI_PREVIEW1_MODULE, WASI_PREVIEW1_SIGNATURES } from './wasi-abi.js';
import { ModuleFormatError } from './wasm-binary.js';

export interface SandboxOptions {
  /** Warm workers (default 1). Calls beyond this many wait in a FIFO queue. */
  readonly poolSize?: number;
  /** Measures wall time (default: systemClock()). */
  readonly clock?: Clock;
  /** Largest module accepted by register (default 16 MiB). */
  readonly maxModuleBytes?: number;
  /** Default linear-memory cap for registered modules (default 64 MiB, a multiple of 64 KiB). */
  readonly maxMemoryBytes?: number;
  /** Cap on every table's size (default 100 000 elements). */
  readonly maxTableElements?: number;
  /** Host-side worker heap/stack limits (default 64 MiB old generation, 4 MiB stack). */
  readonly workerResourceLimits?: {
    readonly maxOldGenerationSizeMb?: number;
    readonly maxYoungGenerationSizeMb?: number;
    readonly codeRangeSizeMb?: number;
    readonly stackSizeMb?: number;
  };
}

export interface RegisterOptions {
  /** Linear-memory cap for this module; baked into the instrumented bytes (and so into its id). */
  readonly maxMemoryBytes?: number;
}

export type ModuleKind = 'wasi-preview1';

export interface ModuleHandle {
  /** `sha256:` digest of the instrumented bytes — exactly what runs. */
  readonly id: string;
  /** `sha256:` digest of the bytes that were registered. */
  readonly source_digest: string;
  readonly kind: ModuleKind;
  readonly max_memory_bytes: number;
}

export interface RunLimits {
  /** Gas budget (instructions under the documented cost model); a positive safe integer. */
  readonly gas: number;
  /** Wall-clock deadline in ms; the worker is terminated when it passes. */
  readonly timeout_ms: number;
  /** Cap on stdout + stderr bytes, enforced while the guest writes. */
  readonly max_output_bytes: number;
  /** Unix ms the guest's realtime clock starts at (default 0). Part of the call, so replayable. */
  readonly virtual_time_ms?: number;
}

export type SandboxFailureCode = GuestFailureCode | 'ERR_COMPUTE_TIME_EXHAUSTED' | 'INTERNAL_ERROR';

export interface SandboxResult {
  readonly ok: boolean;
  readonly code?: SandboxFailureCode;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly exit_code: number | null;
  /** Gas consumed; null when the worker was killed (deadline or host crash). */
  readonly gas_used: number | null;
  readonly wall_ms: number;
  /** Final (= peak: wasm memory never shrinks) linear-memory size; null when killed. */
  readonly peak_memory_bytes: number | null;
}

export interface Sandbox {
  register(bytes: Uint8Array, options?: RegisterOptions): Promise<ModuleHandle>;
  run(handle: ModuleHandle, input: Uint8Array, limits: RunLimits): Promise<SandboxResult>;
  close(): Promise<void>;
}

interface CacheEntry {
  readonly handle: ModuleHandle;
  readonly module: WebAssembly.Module;
}

const MIB = 1024 * 1024;
const RANDOM_DOMAIN = new TextEncoder().encode('helm.sandbox.random.v1\0');
const EMPTY = new Uint8Array(0);

function hexDigest(bytes: Uint8Array): string {
  return `sha256:${Array.from(sha256(bytes), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Import policy for preview1 command modules: only our WASI functions, with their exact signatures. */
export function preview1ImportPolicy(imp: {
  module: string;
  name: string;
  kind: string;
  signature?: string;
}): boolean {
  return (
    imp.kind === 'func' &&
    imp.module === WASI_PREVIEW1_MODULE &&
    Object.hasOwn(WASI_PREVIEW1_SIGNATURES, imp.name) &&
    WASI_PREVIEW1_SIGNATURES[imp.name] === imp.signature
  );
}

/** seed = SHA-256("helm.sandbox.random.v1\0" ‖ SHA-256(instrumented module) ‖ SHA-256(stdin)). */
export function randomSeed(moduleId: string, stdin: Uint8Array): Uint8Array {
  const moduleHash = Uint8Array.from(
    (moduleId.slice(7).match(/../g) ?? []).map((h) => Number.parseInt(h, 16)),
  );
  const buf = new Uint8Array(RANDOM_DOMAIN.length + 64);
  buf.set(RANDOM_DOMAIN);
  buf.set(moduleHash, RANDOM_DOMAIN.length);
  buf.set(sha256(stdin), RANDOM_DOMAIN.length + 32);
  return sha256(buf);
}

function checkLimits(limits: RunLimits): void {
  const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  const ok =
    positiveInt(limits.gas) &&
    positiveInt(limits.timeout_ms) &&
    typeof limits.max_output_bytes === 'number' &&
    Number.isSafeInteger(limits.max_output_bytes) &&
    limits.max_output_bytes >= 0 &&
    (limits.virtual_time_ms === undefined ||
      (Number.isSafeInteger(limits.virtual_time_ms) && limits.virtual_time_ms >= 0));
  if (!ok)
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'run limits must be non-negative safe integers');
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const clock = options.clock ?? systemClock();
  const maxModuleBytes = options.maxModuleBytes ?? 16 * MIB;
  const defaultMemory = options.maxMemoryBytes ?? 64 * MIB;
  const maxTableElements = options.maxTableElements ?? 100_000;
  const limits = options.workerResourceLimits ?? {};
  const pool = new WorkerPool({
    size: options.poolSize ?? 1,
    resourceLimits: {
      maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb ?? 64,
      maxYoungGenerationSizeMb: limits.maxYoungGenerationSizeMb ?? 16,
      codeRangeSizeMb: limits.codeRangeSizeMb ?? 64,
      stackSizeMb: limits.stackSizeMb ?? 4,
    },
  });
  const cache = new Map<string, CacheEntry>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new SandboxError('SANDBOX_CLOSED', 'the sandbox is closed');
  };

  return {
    async register(bytes, registerOptions = {}) {
      assertOpen();
      const memoryBytes = registerOptions.maxMemoryBytes ?? defaultMemory;
      if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0 || memoryBytes % WASM_PAGE_BYTES !== 0) {
        throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'maxMemoryBytes must be a multiple of 65536');
      }
      if (!(bytes instanceof Uint8Array) || bytes.length > maxModuleBytes) {
        throw new SandboxError(
          'SANDBOX_INVALID_MODULE',
          `module is not bytes or exceeds ${maxModuleBytes} bytes`,
        );
      }
      if (!WebAssembly.validate(bytes))
        throw new SandboxError('SANDBOX_INVALID_MODULE', 'module does not validate');
      let instrumented: InstrumentedModule;
      try {
        instrumented = instrumentModule(bytes, {
          maxMemoryPages: memoryBytes / WASM_PAGE_BYTES,
          maxTableElements,
          importPolicy: preview1ImportPolicy,
        });
      } catch (e) {
        if (e instanceof ImportViolationError) throw new SandboxError('SANDBOX_VIOLATION', e.message);
        if (e instanceof ModuleFormatError) throw new SandboxError('SANDBOX_INVALID_MODULE', e.message);
        throw e;
      }
      const hasExport = (name: string, kind: string): boolean =>
        instrumented.exports.some((x) => x.name === name && x.kind === kind);
      if (!hasExport('_start', 'func')) throw new SandboxError('SANDBOX_INVALID_MODULE', 'no _start export');
      if (instrumented.imports.length > 0 && !hasExport('memory', 'memory')) {
        throw new SandboxError('SANDBOX_INVALID_MODULE', 'a module importing WASI must export its memory');
      }
      const id = hexDigest(instrumented.bytes);
      const cached = cache.get(id);
      if (cached !== undefined) return cached.handle;
      const module = await WebAssembly.compile(instrumented.bytes);
      const handle: ModuleHandle = Object.freeze({
        id,
        source_digest: hexDigest(bytes),
        kind: 'wasi-preview1',
        max_memory_bytes: memoryBytes,
      });
      cache.set(id, { handle, module });
      return handle;
    },

    async run(handle, input, runLimits) {
      assertOpen();
      const entry = cache.get(handle.id);
      if (entry === undefined)
        throw new SandboxError('SANDBOX_UNKNOWN_MODULE', `module ${handle.id} is not registered`);
      checkLimits(runLimits);
      if (!(input instanceof Uint8Array))
        throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'input must be a Uint8Array');
      const stdin = input;
      const started = clock.nowMs();
      const outcome = await pool.run(
        {
          module: entry.module,
          stdin,
          gas: runLimits.gas,
          maxOutputBytes: runLimits.max_output_bytes,
          seed: randomSeed(entry.handle.id, stdin),
          virtualTimeMs: runLimits.virtual_time_ms ?? 0,
        },
        runLimits.timeout_ms,
      );
      const wall_ms = clock.nowMs() - started;
      if (outcome.kind === 'done') return { ...outcome.outcome, wall_ms };
      const killed = {
        ok: false,
        stdout: EMPTY,
        stderr: EMPTY,
        exit_code: null,
        gas_used: null,
        wall_ms,
        peak_memory_bytes: null,
      };
      if (outcome.kind === 'timeout') return { ...killed, code: 'ERR_COMPUTE_TIME_EXHAUSTED' };
      return { ...killed, code: outcome.out_of_memory ? 'ERR_COMPUTE_MEMORY_EXHAUSTED' : 'INTERNAL_ERROR' };
    },

    async close() {
      closed = true;
      cache.clear();
      await pool.close();
    },
  };
}
