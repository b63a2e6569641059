// Runs one call of an instrumented preview1 command module, synchronously, inside the worker:
// instantiate against the deny-by-default host, set the gas budget, call `_start`, and map the
// way it ended to a stable outcome. The deadline is enforced outside (the pool terminates us).

import { WASI_PREVIEW1_MODULE } from './wasi-abi.ts';
import { createPreview1Host, ExitSignal, GasExhaustedSignal, OutputLimitSignal } from './wasi-preview1.ts';

/** The inputs and limits of one run, whatever runs: a core module or a component. */
export interface RunInputs {
  readonly stdin: Uint8Array;
  readonly gas: number;
  readonly maxOutputBytes: number;
  readonly seed: Uint8Array;
  readonly virtualTimeMs: number;
}

export interface GuestRequest extends RunInputs {
  readonly module: WebAssembly.Module;
  /**
   * Gas charged before instantiating (instantiationCost of the module's bytes, sandbox.md
   * §"Instantiation cost"); a budget below it ends ERR_COMPUTE_GAS_EXHAUSTED without instantiating.
   */
  readonly instantiationGas?: number;
}

/** Codes the guest side can produce (a subset of the reason-code registry). */
export type GuestFailureCode =
  | 'ERR_COMPUTE_GAS_EXHAUSTED'
  | 'ERR_COMPUTE_MEMORY_EXHAUSTED'
  | 'ERR_COMPUTE_OUTPUT_EXHAUSTED'
  | 'SANDBOX_EXIT_NONZERO'
  | 'SANDBOX_TRAP'
  | 'SANDBOX_TRAP_UNREACHABLE'
  | 'SANDBOX_TRAP_OUT_OF_BOUNDS'
  | 'SANDBOX_TRAP_DIVIDE_BY_ZERO'
  | 'SANDBOX_TRAP_INTEGER_OVERFLOW'
  | 'SANDBOX_TRAP_INVALID_CONVERSION'
  | 'SANDBOX_TRAP_INDIRECT_CALL'
  | 'SANDBOX_TRAP_STACK_OVERFLOW'
  | 'SANDBOX_VIOLATION';

/**
 * Where an out-of-bounds table trap happened: the core module of the trapping instance (its name
 * in a component, null for a preview1 module) and the byte offset of the trapping instruction in
 * that module's instrumented bytes.
 */
export interface TableTrapSite {
  readonly module: string | null;
  readonly offset: number;
}

export interface GuestOutcome {
  readonly ok: boolean;
  readonly code?: GuestFailureCode;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** The exit status, or null when the run did not exit (trap or limit). */
  readonly exit_code: number | null;
  readonly gas_used: number;
  readonly peak_memory_bytes: number;
}

/** What a worker answers: the outcome, and the site of an out-of-bounds table trap. */
export interface WorkerOutcome extends GuestOutcome {
  /**
   * Set with `SANDBOX_TRAP_INDIRECT_CALL` when the engine reported "table index is out of bounds":
   * the isolation port resolves the code (tableTrapCode) against the pinned bytes, which the
   * worker does not have, and drops the field.
   */
  readonly table_trap_site?: TableTrapSite;
}

type TrapCode = Exclude<
  GuestFailureCode,
  | 'ERR_COMPUTE_GAS_EXHAUSTED'
  | 'ERR_COMPUTE_MEMORY_EXHAUSTED'
  | 'ERR_COMPUTE_OUTPUT_EXHAUSTED'
  | 'SANDBOX_EXIT_NONZERO'
  | 'SANDBOX_VIOLATION'
>;

// V8's WebAssembly.RuntimeError messages, one per trap kind. They are the only signal the engine
// gives; an unrecognised message falls back to the generic SANDBOX_TRAP.
const TRAP_MESSAGES: ReadonlyArray<readonly [RegExp, TrapCode]> = [
  [/^unreachable/, 'SANDBOX_TRAP_UNREACHABLE'],
  [/(divide|remainder) by zero/, 'SANDBOX_TRAP_DIVIDE_BY_ZERO'],
  [/integer overflow|divide result unrepresentable/, 'SANDBOX_TRAP_INTEGER_OVERFLOW'],
  [/float unrepresentable/, 'SANDBOX_TRAP_INVALID_CONVERSION'],
  [/(null function|signature mismatch|table index)/, 'SANDBOX_TRAP_INDIRECT_CALL'],
  [/out of bounds/, 'SANDBOX_TRAP_OUT_OF_BOUNDS'],
];

/** Maps a thrown engine error to a stable trap code. */
export function classifyTrap(error: unknown): TrapCode {
  if (error instanceof WebAssembly.RuntimeError) {
    for (const [pattern, code] of TRAP_MESSAGES) if (pattern.test(error.message)) return code;
    return 'SANDBOX_TRAP';
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'SANDBOX_TRAP_STACK_OVERFLOW';
  return 'SANDBOX_TRAP';
}

/**
 * V8 reports an out-of-bounds `table.get/set/fill/copy/init` with the same message as a
 * `call_indirect` past the table, but the trap's innermost stack frame says where it happened:
 * the instance (CallSite#getThis) and the byte offset of the trapping instruction in its module
 * (CallSite#getPosition), exact even for inlined frames. `moduleOf` names the instance's module
 * (null: the preview1 module; undefined: not one of ours). Undefined when the message is another
 * or the frame is not available (the stack was already formatted, or the trace limit is 0): the
 * code then stays the message's, SANDBOX_TRAP_INDIRECT_CALL.
 */
export function tableTrapSite(
  error: unknown,
  moduleOf: (instance: unknown) => string | null | undefined,
): TableTrapSite | undefined {
  if (!(error instanceof WebAssembly.RuntimeError) || !/table index/.test(error.message)) return undefined;
  const format = Error.prepareStackTrace;
  let frames: unknown;
  try {
    Error.prepareStackTrace = (_e, callSites) => callSites;
    frames = error.stack; // formatted now, on first access
  } finally {
    Error.prepareStackTrace = format;
  }
  if (!Array.isArray(frames) || frames.length === 0) return undefined;
  const top = frames[0] as NodeJS.CallSite;
  const module = moduleOf(top.getThis());
  return module === undefined ? undefined : { module, offset: top.getPosition() };
}

/**
 * The code of an out-of-bounds table trap at `offset` of the instrumented `bytes`: the opcode there
 * is `table.get` (0x25), `table.set` (0x26) or 0xfc with subopcode `table.init` (12), `table.copy`
 * (14) or `table.fill` (17) ⇒ SANDBOX_TRAP_OUT_OF_BOUNDS; anything else (`call_indirect`,
 * `return_call_indirect`) ⇒ SANDBOX_TRAP_INDIRECT_CALL.
 */
export function tableTrapCode(bytes: Uint8Array, offset: number): TrapCode {
  const op = bytes[offset];
  if (op === 0x25 || op === 0x26) return 'SANDBOX_TRAP_OUT_OF_BOUNDS';
  if (op === 0xfc) {
    // the subopcode is a LEB128 u32 (the instrumenter copies it as written, maybe not minimal)
    let sub = 0;
    for (let i = 0, shift = 0; i < 5; i++, shift += 7) {
      const b = bytes[offset + 1 + i] ?? 0;
      sub += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    if (sub === 12 || sub === 14 || sub === 17) return 'SANDBOX_TRAP_OUT_OF_BOUNDS';
  }
  return 'SANDBOX_TRAP_INDIRECT_CALL';
}

/**
 * Registration checked imports and exports; instantiation can still fail on a link error, a
 * trapping active segment, or an engine limit (the initial memory cannot be reserved).
 */
export function instantiationFailure(error: unknown): GuestFailureCode {
  if (error instanceof WebAssembly.LinkError || error instanceof TypeError) return 'SANDBOX_VIOLATION';
  if (error instanceof WebAssembly.RuntimeError) {
    // No guest instruction runs during instantiation (the start function is relocated), so a
    // "table index" trap here is an active element segment past its table: out of bounds.
    if (/table index/.test(error.message)) return 'SANDBOX_TRAP_OUT_OF_BOUNDS';
    return classifyTrap(error);
  }
  if (error instanceof RangeError) return 'ERR_COMPUTE_MEMORY_EXHAUSTED';
  return 'SANDBOX_TRAP';
}

interface MeteringExports {
  readonly gas: WebAssembly.Global;
  readonly growFailed: WebAssembly.Global;
}

export function runGuest(req: GuestRequest): WorkerOutcome {
  const host = createPreview1Host({
    stdin: req.stdin,
    maxOutputBytes: req.maxOutputBytes,
    seed: req.seed,
    virtualTimeMs: req.virtualTimeMs,
  });
  const budget = BigInt(req.gas);
  const instantiationGas = BigInt(req.instantiationGas ?? 0);
  // Instantiation allocates tables and copies segments before any guest code runs: paid first.
  if (instantiationGas > budget) return failed('ERR_COMPUTE_GAS_EXHAUSTED', host, req.gas, 0);
  let instance: WebAssembly.Instance;
  let metering: MeteringExports;
  try {
    instance = new WebAssembly.Instance(req.module, { [WASI_PREVIEW1_MODULE]: host.imports });
    const exp = instance.exports as Record<string, unknown>;
    metering = {
      gas: exp.__helm_gas as WebAssembly.Global,
      growFailed: exp.__helm_grow_failed as WebAssembly.Global,
    };
    metering.gas.value = budget - instantiationGas;
  } catch (e) {
    return failed(instantiationFailure(e), host, Number(instantiationGas), 0);
  }
  const memory = instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : undefined;
  host.bind(memory, metering.gas);
  const init = instance.exports.__helm_start as (() => void) | undefined;
  const main = instance.exports._start as () => void;
  const start = (): void => {
    if (init !== undefined) init();
    main();
  };
  let exitCode = 0;
  let failure: GuestFailureCode | undefined;
  let site: TableTrapSite | undefined;
  try {
    start();
  } catch (e) {
    if (e instanceof ExitSignal) exitCode = e.exitCode;
    else if (e instanceof OutputLimitSignal) failure = 'ERR_COMPUTE_OUTPUT_EXHAUSTED';
    else if (e instanceof GasExhaustedSignal)
      failure = 'ERR_COMPUTE_GAS_EXHAUSTED'; // a host call's charge
    else {
      failure = classifyTrap(e);
      site = tableTrapSite(e, (i) => (i === instance ? null : undefined));
    }
  }
  const remaining = metering.gas.value as bigint;
  const gasExhausted = remaining < 0n;
  const gasUsed = Number(gasExhausted ? budget : budget - remaining);
  const peak = memory === undefined ? 0 : memory.buffer.byteLength;
  const growFailed = metering.growFailed.value !== 0;
  if (gasExhausted) failure = 'ERR_COMPUTE_GAS_EXHAUSTED';
  else if (failure === 'ERR_COMPUTE_OUTPUT_EXHAUSTED') {
    // the output cap wins over whatever else went wrong
  } else if ((failure !== undefined || exitCode !== 0) && growFailed)
    failure = 'ERR_COMPUTE_MEMORY_EXHAUSTED';
  else if (failure === undefined && exitCode !== 0) {
    return {
      ok: false,
      code: 'SANDBOX_EXIT_NONZERO',
      ...streams(host),
      exit_code: exitCode,
      gas_used: gasUsed,
      peak_memory_bytes: peak,
    };
  }
  if (failure !== undefined) {
    const exited = failure === 'ERR_COMPUTE_MEMORY_EXHAUSTED' && exitCode !== 0;
    return {
      ok: false,
      code: failure,
      ...streams(host),
      exit_code: exited ? exitCode : null,
      gas_used: gasUsed,
      peak_memory_bytes: peak,
      ...(site !== undefined && failure === 'SANDBOX_TRAP_INDIRECT_CALL' ? { table_trap_site: site } : {}),
    };
  }
  return { ok: true, ...streams(host), exit_code: 0, gas_used: gasUsed, peak_memory_bytes: peak };
}

function streams(host: { stdout(): Uint8Array; stderr(): Uint8Array }): {
  stdout: Uint8Array;
  stderr: Uint8Array;
} {
  return { stdout: host.stdout(), stderr: host.stderr() };
}

function failed(
  code: GuestFailureCode,
  host: { stdout(): Uint8Array; stderr(): Uint8Array },
  gasUsed: number,
  peak: number,
): GuestOutcome {
  return { ok: false, code, ...streams(host), exit_code: null, gas_used: gasUsed, peak_memory_bytes: peak };
}
