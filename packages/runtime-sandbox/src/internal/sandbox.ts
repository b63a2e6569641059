// The sandbox facade: register (validate → instrument → hash → compile once, cached) and run
// (worker pool, deadline, result mapping).
import { isDigest, sha256 } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { type Clock, systemClock } from './clock.js';
import { SandboxError } from './errors.js';
import type { GuestFailureCode } from './guest-run.js';
import {
  checkInstrumentedLimits,
  describeInstrumented,
  GAS_EXPORT,
  GROW_FAILED_EXPORT,
  ImportViolationError,
  instrumentModule,
  type ModuleImport,
  WASM_PAGE_BYTES,
} from './instrument.js';
import { type IsolatedModule, type IsolationPort, threadIsolation } from './isolation.js';
import { PREVIEW2_INTERFACES, unversioned } from './preview2-host.js';
import { WASI_PREVIEW1_MODULE, WASI_PREVIEW1_SIGNATURES } from './wasi-abi.js';

export interface SandboxOptions {
  /**
   * Where guest code runs and how the deadline stops it (default: `threadIsolation` with
   * `poolSize` workers and `workerResourceLimits`). Pass a process isolation port (e.g.
   * `@helm/sandbox-process`) where a deadline must stop the guest's CPU use. `close()` closes it.
   */
  readonly isolation?: IsolationPort;
  /** Workers of the default isolation (default 1, at most 64), started by the first call and kept warm. Calls beyond this many wait in a FIFO queue. */
  readonly poolSize?: number;
  /** Measures wall time (default: systemClock()). */
  readonly clock?: Clock;
  /** Largest module accepted by register (default 16 MiB). */
  readonly maxModuleBytes?: number;
  /** Default linear-memory cap for registered modules (default 64 MiB, a multiple of 64 KiB). */
  readonly maxMemoryBytes?: number;
  /** Cap on every table's size (default 100 000 elements). */
  readonly maxTableElements?: number;
  /**
   * Turns a WASI preview2 component into jco output (`instantiation: 'sync'`, no inlined base64).
   * Runs once per registerComponent; supplied by the (non-TCB) caller, e.g. with
   * `@bytecodealliance/jco-transpile`. Without it, registerComponent fails closed.
   */
  readonly componentTranspiler?: (component: Uint8Array) => Promise<TranspiledComponent>;
  /** Host-side worker heap/stack limits of the default isolation (default 64 MiB old generation, 4 MiB stack). */
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
  /**
   * Canonicalize NaN results of float instructions (default true), so a run replays bit for bit on
   * any CPU architecture. `false` keeps the engine's NaN bit patterns: results are then only
   * replayable on the same architecture (the handle says so: `canonicalize_nan: false`).
   */
  readonly canonicalizeNaN?: boolean;
}

export type ModuleKind = 'wasi-preview1' | 'wasi-preview2';

/** What a component transpiler (jco) produces for one component. */
export interface TranspiledComponent {
  /** The generated ES module exporting `instantiate(getCoreModule, imports, instantiateCore)`. */
  readonly js: string;
  /** The core modules, keyed by the name the generated code passes to getCoreModule. */
  readonly core_modules: Readonly<Record<string, Uint8Array>>;
  /** The component's imported interfaces (e.g. `wasi:cli/stdout@0.2.3`). */
  readonly imports: readonly string[];
}

export interface ModuleHandle {
  /**
   * `sha256:` digest of the instrumented bytes — exactly what runs. Distinct sources can share it
   * (instrumentation drops custom sections); they never share a handle.
   */
  readonly id: string;
  /** `sha256:` digest of exactly the bytes that were registered: what a tool's `driver.ref` binds. */
  readonly source_digest: string;
  readonly kind: ModuleKind;
  readonly max_memory_bytes: number;
  /** Whether float NaN results are canonicalized (false: replay is bound to the CPU architecture). */
  readonly canonicalize_nan: boolean;
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
  /** Registers a WASI preview1 command module (exports `_start` and `memory`). */
  register(bytes: Uint8Array, options?: RegisterOptions): Promise<ModuleHandle>;
  /** Registers a WASI preview2 command component through the configured componentTranspiler. */
  registerComponent(component: Uint8Array, options?: RegisterOptions): Promise<ModuleHandle>;
  /**
   * The instrumented bytes of a registered preview1 module — exactly what its `id` digests — so a
   * caller can cache them (keyed by `id`) and skip instrumentation when it registers them again.
   */
  instrumentedBytes(handle: ModuleHandle): Uint8Array;
  /**
   * Registers instrumented bytes from `instrumentedBytes`, pinned by a handle the caller trusts
   * (e.g. its own registration record): their SHA-256 must be `pin.id`, and they must be a valid
   * instrumented preview1 command (metering exports, `_start: [] -> []`, WASI imports only, memory
   * within `pin.max_memory_bytes`). Returns a handle equal to `pin`.
   */
  registerInstrumented(bytes: Uint8Array, pin: ModuleHandle): Promise<ModuleHandle>;
  run(handle: ModuleHandle, input: Uint8Array, limits: RunLimits): Promise<SandboxResult>;
  close(): Promise<void>;
}

/**
 * The identity of a handle: every field. A registration returns the handle of exactly its own
 * bytes and options, so two registrations share a handle only when all of these are equal — in
 * particular `source_digest`, the SHA-256 of the registered bytes. Instrumentation drops custom
 * sections and re-encodes sections, so distinct sources can share `id` (the code that runs); they
 * share the compiled module, never the handle (I-SANDBOX-8).
 */
function handleKey(handle: ModuleHandle): string {
  return [
    handle.id,
    handle.source_digest,
    handle.kind,
    handle.max_memory_bytes,
    handle.canonicalize_nan,
  ].join(' ');
}

/**
 * The fields of a caller's handle, read once (a getter or a Proxy answers each read anew) and
 * each of the type an issued handle has; undefined for anything else — a Symbol or an object
 * field would make handleKey throw a TypeError instead of SANDBOX_UNKNOWN_MODULE.
 */
function handleFields(handle: unknown): ModuleHandle | undefined {
  if (typeof handle !== 'object' || handle === null) return undefined;
  try {
    const h = handle as Record<string, unknown>;
    const fields = {
      id: h.id,
      source_digest: h.source_digest,
      kind: h.kind,
      max_memory_bytes: h.max_memory_bytes,
      canonicalize_nan: h.canonicalize_nan,
    };
    const typed =
      typeof fields.id === 'string' &&
      typeof fields.source_digest === 'string' &&
      typeof fields.kind === 'string' &&
      typeof fields.max_memory_bytes === 'number' &&
      typeof fields.canonicalize_nan === 'boolean';
    return typed ? (fields as ModuleHandle) : undefined;
  } catch {
    return undefined; // a throwing getter or Proxy trap: not a handle this sandbox issued
  }
}

// The engine's own accessors of a typed array's internal slots, taken before any caller code
// runs: they answer for real typed arrays only (a Proxy of one, or an object with
// Uint8Array.prototype, has no slots) and cannot be redirected by a caller's own properties.
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, Symbol.toStringTag)?.get as (
  this: unknown,
) => string | undefined;

/**
 * A copy of `value` if it is a real Uint8Array at most `max` bytes long, else undefined. Copied
 * up front so the caller (or another thread writing a shared buffer) cannot change the bytes
 * after they were checked, digested or used to derive the run's seed.
 */
function copyBytes(value: unknown, max = Number.POSITIVE_INFINITY): Uint8Array | undefined {
  if (!ArrayBuffer.isView(value) || typedArrayTag.call(value) !== 'Uint8Array') return undefined;
  try {
    // the constructor reads the source's internal length and bytes (throws on a detached buffer)
    const copy = new Uint8Array(value as Uint8Array);
    return copy.length <= max ? copy : undefined;
  } catch {
    return undefined;
  }
}

const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every public argument is checked before it is used: a bad one is a SandboxError, never a TypeError. */
/**
 * Reads the named fields of a caller's object once, into a plain record: a getter or a Proxy
 * answers each read anew, so what is checked must be what is used. A throwing getter or trap is
 * SANDBOX_INVALID_ARGUMENT, like any other bad argument.
 */
function snapshot(
  value: Record<string, unknown>,
  fields: readonly string[],
  what: string,
): Record<string, unknown> {
  try {
    const out: Record<string, unknown> = {};
    for (const f of fields) out[f] = value[f];
    return out;
  } catch {
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', `${what} could not be read`);
  }
}

function checkRegisterOptions(options: unknown): RegisterOptions {
  if (options === undefined) return {};
  if (!isObject(options))
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'register options must be an object');
  const o = snapshot(options, ['maxMemoryBytes', 'canonicalizeNaN'], 'register options');
  if (o.canonicalizeNaN !== undefined && typeof o.canonicalizeNaN !== 'boolean')
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'canonicalizeNaN must be a boolean');
  // (maxMemoryBytes is checked by memoryCap, on this snapshot)
  return Object.freeze(o) as RegisterOptions;
}

/** A pin for registerInstrumented: a handle's exact shape (it becomes the returned handle). */
function checkPin(value: unknown): ModuleHandle {
  const pin = isObject(value)
    ? snapshot(value, ['id', 'source_digest', 'kind', 'max_memory_bytes', 'canonicalize_nan'], 'the pin')
    : undefined;
  const ok =
    pin !== undefined &&
    isDigest(pin.id) &&
    isDigest(pin.source_digest) &&
    (pin.kind === 'wasi-preview1' || pin.kind === 'wasi-preview2') &&
    typeof pin.max_memory_bytes === 'number' &&
    Number.isSafeInteger(pin.max_memory_bytes) &&
    pin.max_memory_bytes >= 0 &&
    pin.max_memory_bytes % WASM_PAGE_BYTES === 0 &&
    typeof pin.canonicalize_nan === 'boolean';
  if (!ok) throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'the pin must be a module handle');
  return Object.freeze(pin) as unknown as ModuleHandle;
}

/** The run limits as checked (a snapshot: the run uses exactly these values). */
function checkLimits(value: RunLimits): RunLimits {
  if (!isObject(value as unknown))
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'run limits must be an object');
  const limits = snapshot(
    value as unknown as Record<string, unknown>,
    ['gas', 'timeout_ms', 'max_output_bytes', 'virtual_time_ms'],
    'run limits',
  );
  const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  const ok =
    positiveInt(limits.gas) &&
    positiveInt(limits.timeout_ms) &&
    typeof limits.max_output_bytes === 'number' &&
    Number.isSafeInteger(limits.max_output_bytes) &&
    limits.max_output_bytes >= 0 &&
    (limits.virtual_time_ms === undefined ||
      (Number.isSafeInteger(limits.virtual_time_ms) && (limits.virtual_time_ms as number) >= 0));
  if (!ok)
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'run limits must be non-negative safe integers');
  return Object.freeze(limits) as unknown as RunLimits;
}

/** What the methods of one sandbox share. */
interface SandboxState {
  readonly options: SandboxOptions;
  readonly clock: Clock;
  readonly maxModuleBytes: number;
  readonly defaultMemory: number;
  readonly maxTableElements: number;
  readonly isolation: IsolationPort;
  /** Prepared modules by `id` (the digest of what runs). */
  readonly modules: Map<string, IsolatedModule>;
  /** The handles this sandbox issued, by handleKey; run/instrumentedBytes accept only these. */
  readonly handles: Map<string, ModuleHandle>;
  closed: boolean;
}

function assertOpen(s: SandboxState): void {
  if (s.closed) throw new SandboxError('SANDBOX_CLOSED', 'the sandbox is closed');
}

function memoryCap(s: SandboxState, registerOptions: RegisterOptions): number {
  const memoryBytes = registerOptions.maxMemoryBytes ?? s.defaultMemory;
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0 || memoryBytes % WASM_PAGE_BYTES !== 0) {
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'maxMemoryBytes must be a multiple of 65536');
  }
  return memoryBytes;
}

/** A copy of a module's bytes (copyBytes); anything else, or too long, is SANDBOX_INVALID_MODULE. */
function checkBytes(s: SandboxState, bytes: unknown): Uint8Array {
  const copy = copyBytes(bytes, s.maxModuleBytes);
  if (copy === undefined) {
    throw new SandboxError(
      'SANDBOX_INVALID_MODULE',
      `module is not a Uint8Array or exceeds ${s.maxModuleBytes} bytes`,
    );
  }
  return copy;
}

/** Validates and instruments a core module; every failure is a SandboxError. */
function instrument(
  s: SandboxState,
  bytes: Uint8Array,
  memoryBytes: number,
  policy: (i: ModuleImport) => boolean,
  canonicalizeNaN: boolean,
  sharedGas = false,
) {
  if (!WebAssembly.validate(bytes))
    throw new SandboxError('SANDBOX_INVALID_MODULE', 'module does not validate');
  try {
    return instrumentModule(bytes, {
      maxMemoryPages: memoryBytes / WASM_PAGE_BYTES,
      maxTableElements: s.maxTableElements,
      importPolicy: policy,
      canonicalizeNaN,
      sharedGas,
    });
  } catch (e) {
    if (e instanceof ImportViolationError) throw new SandboxError('SANDBOX_VIOLATION', e.message);
    // ModuleFormatError (limits, unsupported features) and anything unexpected: refused.
    throw new SandboxError('SANDBOX_INVALID_MODULE', e instanceof Error ? e.message : String(e));
  }
}

/** Compiling the instrumented bytes can still fail (an engine limit): the package's error. */
async function prepare(s: SandboxState, module: IsolatedModule): Promise<void> {
  try {
    await s.isolation.prepare(module);
  } catch (e) {
    throw new SandboxError('SANDBOX_INVALID_MODULE', `module does not compile: ${String(e)}`);
  }
}

async function registerCore(
  s: SandboxState,
  bytes: Uint8Array,
  registerOptions: RegisterOptions,
): Promise<ModuleHandle> {
  assertOpen(s);
  const memoryBytes = memoryCap(s, registerOptions);
  const canonicalizeNaN = registerOptions.canonicalizeNaN ?? true;
  const instrumented = instrument(
    s,
    checkBytes(s, bytes),
    memoryBytes,
    preview1ImportPolicy,
    canonicalizeNaN,
  );
  const hasExport = (name: string, kind: string): boolean =>
    instrumented.exports.some((x) => x.name === name && x.kind === kind);
  const start = instrumented.exports.find((x) => x.name === '_start' && x.kind === 'func');
  if (start === undefined) throw new SandboxError('SANDBOX_INVALID_MODULE', 'no _start export');
  if (start.signature !== '->') {
    throw new SandboxError('SANDBOX_INVALID_MODULE', `_start must be () -> (), not ${start.signature}`);
  }
  if (instrumented.imports.length > 0 && !hasExport('memory', 'memory')) {
    throw new SandboxError('SANDBOX_INVALID_MODULE', 'a module importing WASI must export its memory');
  }
  const id = hexDigest(instrumented.bytes);
  return issue(
    s,
    { kind: 'core', id, bytes: instrumented.bytes },
    {
      id,
      source_digest: hexDigest(bytes),
      kind: 'wasi-preview1',
      max_memory_bytes: memoryBytes,
      canonicalize_nan: instrumented.canonicalizeNaN,
    },
  );
}

/**
 * The handle for `fields`: the one already issued with exactly these fields, else a new one —
 * preparing `module` unless a module with its id is already prepared (same code that runs).
 */
async function issue(s: SandboxState, module: IsolatedModule, fields: ModuleHandle): Promise<ModuleHandle> {
  const key = handleKey(fields);
  const issued = s.handles.get(key);
  if (issued !== undefined) return issued;
  if (!s.modules.has(module.id)) {
    await prepare(s, module);
    s.modules.set(module.id, module);
  }
  const handle: ModuleHandle = Object.freeze({ ...fields });
  s.handles.set(key, handle);
  return handle;
}

/**
 * The issued handle equal in every field to `handle`, and its prepared module; else
 * SANDBOX_UNKNOWN_MODULE. Callers use the issued handle from here on, never the caller's object.
 */
function moduleOf(
  s: SandboxState,
  handle: unknown,
  what: string,
): { module: IsolatedModule; handle: ModuleHandle } {
  const fields = handleFields(handle);
  const issued = fields === undefined ? undefined : s.handles.get(handleKey(fields));
  const module = issued === undefined ? undefined : s.modules.get(issued.id);
  if (issued === undefined || module === undefined)
    throw new SandboxError(
      'SANDBOX_UNKNOWN_MODULE',
      `${what} ${fields === undefined ? '(not a module handle)' : fields.id} is not registered`,
    );
  return { module, handle: issued };
}

/** Runs the configured transpiler and refuses a component importing what the host does not provide. */
async function transpileComponent(s: SandboxState, bytes: Uint8Array): Promise<TranspiledComponent> {
  if (!COMPONENT_HEADER.every((b, i) => bytes[i] === b)) {
    throw new SandboxError('SANDBOX_INVALID_MODULE', 'not a WebAssembly component');
  }
  if (s.options.componentTranspiler === undefined) {
    throw new SandboxError('SANDBOX_INVALID_MODULE', 'no component transpiler is configured');
  }
  let transpiled: TranspiledComponent;
  try {
    transpiled = await s.options.componentTranspiler(bytes);
  } catch (e) {
    throw new SandboxError('SANDBOX_INVALID_MODULE', `component transpilation failed: ${String(e)}`);
  }
  const missing = transpiled.imports.filter((name) => !PREVIEW2_INTERFACES.includes(unversioned(name)));
  if (missing.length > 0) {
    throw new SandboxError(
      'SANDBOX_VIOLATION',
      `component imports ${missing.join(', ')}, which the sandbox does not provide`,
    );
  }
  return transpiled;
}

async function registerComponent(
  s: SandboxState,
  component: Uint8Array,
  registerOptions: RegisterOptions,
): Promise<ModuleHandle> {
  assertOpen(s);
  const memoryBytes = memoryCap(s, registerOptions);
  const bytes = checkBytes(s, component);
  const transpiled = await transpileComponent(s, bytes);
  // Core modules import each other's exports and the host's lowered functions, wired by the
  // glue; what they can reach is bounded by the preview2 host, so every import is accepted.
  const names = Object.keys(transpiled.core_modules).sort();
  const canonicalizeNaN = registerOptions.canonicalizeNaN ?? true;
  let nanCanonical = true;
  const digests: Record<string, string> = {};
  const instrumentedModules: Record<string, Uint8Array> = {};
  for (const name of names) {
    const coreBytes = checkBytes(s, transpiled.core_modules[name]);
    // One gas counter for all the run's core instances (sandbox.md §5): each imports it.
    const inst = instrument(s, coreBytes, memoryBytes, () => true, canonicalizeNaN, true);
    nanCanonical &&= inst.canonicalizeNaN;
    instrumentedModules[name] = inst.bytes;
    digests[name] = hexDigest(inst.bytes);
  }
  const id = hexDigest(
    canonicalBytes({
      type: 'helm.sandbox.component.v1',
      glue: hexDigest(new TextEncoder().encode(transpiled.js)),
      core_modules: digests,
    }),
  );
  const module: IsolatedModule = {
    kind: 'component',
    id,
    glue: transpiled.js,
    core_modules: instrumentedModules,
  };
  return issue(s, module, {
    id,
    source_digest: hexDigest(bytes),
    kind: 'wasi-preview2',
    max_memory_bytes: memoryBytes,
    canonicalize_nan: nanCanonical,
  });
}

function instrumentedBytes(s: SandboxState, handle: ModuleHandle): Uint8Array {
  assertOpen(s);
  const { module, handle: issued } = moduleOf(s, handle, 'no registered preview1 module:');
  if (module.kind !== 'core')
    throw new SandboxError('SANDBOX_UNKNOWN_MODULE', `no registered preview1 module ${issued.id}`);
  return module.bytes.slice();
}

async function registerInstrumented(
  s: SandboxState,
  bytes: Uint8Array,
  pin: ModuleHandle,
): Promise<ModuleHandle> {
  assertOpen(s);
  const invalid = (why: string): SandboxError =>
    new SandboxError('SANDBOX_INVALID_MODULE', `cached instrumented module refused: ${why}`);
  const id = hexDigest(checkBytes(s, bytes));
  if (id !== pin.id) throw invalid(`its digest is ${id}, not the pinned ${pin.id}`);
  const fields: ModuleHandle = {
    id,
    source_digest: pin.source_digest,
    kind: 'wasi-preview1',
    max_memory_bytes: pin.max_memory_bytes,
    canonicalize_nan: pin.canonicalize_nan,
  };
  const issued = s.handles.get(handleKey(fields));
  if (issued !== undefined) return issued;
  if (pin.kind !== 'wasi-preview1' || !WebAssembly.validate(bytes))
    throw invalid('not a valid preview1 module');
  let shape: ReturnType<typeof describeInstrumented>;
  try {
    shape = describeInstrumented(bytes);
  } catch (e) {
    throw invalid(String(e));
  }
  const has = (name: string, kind: string, signature?: string): boolean =>
    shape.exports.some((x) => x.name === name && x.kind === kind && x.signature === signature);
  if (!has(GAS_EXPORT, 'global') || !has(GROW_FAILED_EXPORT, 'global') || !has('_start', 'func', '->'))
    throw invalid('no metering exports or no _start');
  if (!shape.imports.every(preview1ImportPolicy)) throw invalid('an import outside WASI preview1');
  if (shape.memoryMaxPages !== null && shape.memoryMaxPages * WASM_PAGE_BYTES > pin.max_memory_bytes)
    throw invalid('its memory maximum exceeds the pinned max_memory_bytes');
  // The same module limits and caps as register: a memory or table without a maximum (which the
  // instrumenter never writes) would grow past the pin's and the sandbox's caps.
  try {
    checkInstrumentedLimits(bytes, {
      maxMemoryPages: pin.max_memory_bytes / WASM_PAGE_BYTES,
      maxTableElements: s.maxTableElements,
    });
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
  return issue(s, { kind: 'core', id, bytes: bytes.slice() }, fields);
}

async function run(
  s: SandboxState,
  handle: ModuleHandle,
  input: Uint8Array,
  runLimits: RunLimits,
): Promise<SandboxResult> {
  assertOpen(s);
  const { module, handle: issued } = moduleOf(s, handle, 'module');
  const limits = checkLimits(runLimits);
  // A copy, taken before anything is derived from it: the seed and the bytes the guest reads are
  // of the same input whatever the caller does with its buffer after this call returned.
  const stdin = copyBytes(input);
  if (stdin === undefined) throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'input must be a Uint8Array');
  const started = s.clock.nowMs();
  const outcome = await s.isolation.run(
    {
      module,
      stdin,
      gas: limits.gas,
      maxOutputBytes: limits.max_output_bytes,
      seed: randomSeed(issued.id, stdin),
      virtualTimeMs: limits.virtual_time_ms ?? 0,
    },
    limits.timeout_ms,
  );
  const wall_ms = s.clock.nowMs() - started;
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
}

/**
 * Create a WASI sandbox (docs/spec/sandbox.md): deny-all host, gas and host-call metering, time,
 * memory and output caps, guest code isolated behind the isolation port.
 *
 * @example
 * ```ts
 * import { createSandbox } from '@helm/runtime-sandbox';
 *
 * declare const wasm: Uint8Array; // a WASI preview1 command module
 * async function run(): Promise<void> {
 *   const sandbox = createSandbox();
 *   try {
 *     const handle = await sandbox.register(wasm); // throws SandboxError
 *     const limits = { gas: 1_000_000, timeout_ms: 1_000, max_output_bytes: 65_536 };
 *     const result = await sandbox.run(handle, new Uint8Array(), limits); // guest failures are results
 *     console.log(result.ok, result.code, result.exit_code);
 *   } finally {
 *     await sandbox.close();
 *   }
 * }
 * void run();
 * ```
 */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  if (!isObject(options as unknown))
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'options must be an object');
  const poolSize = options.poolSize ?? 1;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1 || poolSize > 64) {
    throw new SandboxError('SANDBOX_INVALID_ARGUMENT', 'poolSize must be an integer from 1 to 64');
  }
  const sizeOption = (v: unknown, what: string, page = 1): void => {
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) % page === 0))
      throw new SandboxError('SANDBOX_INVALID_ARGUMENT', `${what} must be a non-negative safe integer`);
  };
  sizeOption(options.maxModuleBytes, 'maxModuleBytes');
  sizeOption(options.maxMemoryBytes, 'maxMemoryBytes', WASM_PAGE_BYTES);
  sizeOption(options.maxTableElements, 'maxTableElements');
  // The ports are called on every run: refused here, not by a TypeError at the first call.
  const port = (value: unknown, what: string, methods: readonly string[]): void => {
    if (value === undefined) return;
    const ok =
      isObject(value) && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
    if (!ok)
      throw new SandboxError(
        'SANDBOX_INVALID_ARGUMENT',
        `${what} must be an object with ${methods.join(', ')}`,
      );
  };
  port(options.clock, 'clock', ['nowMs']);
  port(options.isolation, 'isolation', ['prepare', 'run', 'close']);
  const s: SandboxState = {
    options,
    clock: options.clock ?? systemClock(),
    maxModuleBytes: options.maxModuleBytes ?? 16 * MIB,
    defaultMemory: options.maxMemoryBytes ?? 64 * MIB,
    maxTableElements: options.maxTableElements ?? 100_000,
    isolation:
      options.isolation ??
      threadIsolation({ size: poolSize, resourceLimits: options.workerResourceLimits ?? {} }),
    modules: new Map(),
    handles: new Map(),
    closed: false,
  };
  return {
    register: async (bytes, registerOptions) => registerCore(s, bytes, checkRegisterOptions(registerOptions)),
    registerComponent: async (component, registerOptions) =>
      registerComponent(s, component, checkRegisterOptions(registerOptions)),
    instrumentedBytes: (handle) => instrumentedBytes(s, handle),
    registerInstrumented: async (bytes, pin) => registerInstrumented(s, bytes, checkPin(pin)),
    run: (handle, input, runLimits) => run(s, handle, input, runLimits),
    async close() {
      s.closed = true;
      s.modules.clear();
      s.handles.clear();
      await s.isolation.close();
    },
  };
}
