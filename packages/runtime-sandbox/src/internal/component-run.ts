// Runs one call of a jco-transpiled WASI preview2 command component inside the component worker.
// Every core module the generated code asks for comes from `getCoreModule`, which only serves
// the pinned, instrumented modules; every instance is created by our `instantiateCore`, which
// sets its gas budget and runs its (relocated) start function.
import {
  classifyTrap,
  type GuestFailureCode,
  instantiationFailure,
  type RunInputs,
  type TableTrapSite,
  tableTrapSite,
  type WorkerOutcome,
} from './guest-run.ts';
import { COMPONENT_INSTANCE_GAS } from './instantiation-cost.ts';
import { SHARED_GAS_MODULE, SHARED_GAS_NAME } from './metering-abi.ts';
import { createPreview2Host, ForbiddenHostCall } from './preview2-host.ts';
import { ExitSignal, GasExhaustedSignal, OutputLimitSignal } from './wasi-preview1.ts';

export interface ComponentRequest extends RunInputs {
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /**
   * Instantiation gas of each core module beyond the base COMPONENT_INSTANCE_GAS, by name
   * (componentInstanceCost of its pinned bytes: its instantiationCost and its initial pages).
   */
  readonly instantiationGas?: Readonly<Record<string, number>>;
}

/**
 * The run's one budget, shared by the host and every core instance (docs/spec/sandbox.md §5,
 * "Components: one counter"). Every core module of a component is instrumented with `sharedGas`:
 * it imports its counter as `__helm`.`gas`, and every instance of the run gets this one
 * WebAssembly.Global, holding the remaining budget. So every charge — any instance's, the host's,
 * an instantiation's — subtracts from the same value, and the first one that takes it below zero
 * ends the run, whichever instance or host call makes it: all instances together do at most the
 * budget's worth of work (plus the one charge that crossed it, which traps before its work runs).
 */
class GasLedger {
  readonly budget: bigint;
  readonly counter: WebAssembly.Global;

  constructor(gas: number) {
    this.budget = BigInt(gas);
    this.counter = new WebAssembly.Global({ value: 'i64', mutable: true }, this.budget);
  }

  /** Gas charged so far (more than the budget once a charge crossed it). */
  get spent(): bigint {
    return this.budget - (this.counter.value as bigint);
  }

  /** Charges `cost` (host work, an instantiation) on the shared counter; returns what is left. */
  charge(cost: bigint): bigint {
    const left = (this.counter.value as bigint) - cost;
    this.counter.value = left;
    return left;
  }

  /** Ends all metering: the counter below zero, so the next charge of any instance traps. */
  freeze(): bigint {
    const spent = this.spent;
    this.counter.value = -1n;
    return spent;
  }
}

/** The `instantiate` function jco generates with `instantiation: 'sync'`. */
export type InstantiateComponent = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => unknown;

/** Thrown when the generated code asks for a core module that was not pinned at registration. */
class UnknownCoreModule extends Error {}

/** Thrown when a core instance does not charge the run's shared counter. */
class UnsharedCounter extends Error {}

interface RunExport {
  run(): void;
}

/** How an engine error was classified where it left the core code (before the glue saw it). */
interface Classified {
  readonly failure: GuestFailureCode;
  readonly site: TableTrapSite | undefined;
}

/**
 * The glue links instances to each other's exports: the engine gets the real export back (each
 * wrapper handed to the glue → the export it wraps, in `unwrapped`). The copy has no prototype,
 * module and field alike: a core module's import resolves only what the glue (or the run,
 * `__helm`.`gas`) put there, never an inherited `constructor` or `toString`.
 */
function linkImports(
  imports: WebAssembly.Imports | undefined,
  unwrapped: WeakMap<object, unknown>,
  counter: WebAssembly.Global,
): WebAssembly.Imports {
  const out = Object.create(null) as Record<string, Record<string, WebAssembly.ImportValue>>;
  for (const [module, fields] of Object.entries(imports ?? {})) {
    const copy = Object.create(null) as Record<string, WebAssembly.ImportValue>;
    for (const [field, value] of Object.entries(fields)) {
      const real = typeof value === 'function' ? unwrapped.get(value) : undefined;
      copy[field] = (real ?? value) as WebAssembly.ImportValue;
    }
    out[module] = copy;
  }
  // The run's counter, under the import name no source module may use (gas-import.ts).
  const gas = Object.create(null) as Record<string, WebAssembly.ImportValue>;
  gas[SHARED_GAS_NAME] = counter;
  out[SHARED_GAS_MODULE] = gas;
  return out;
}

/**
 * The core instances of one run: served only from the pinned modules, each paid for before it
 * is created, and each handed to the glue with its exported functions wrapped so that a trap is
 * classified at the core-export boundary. The glue may rewrite an engine error before rethrowing
 * it (the pinned jco's `markTrapped` replaces V8's message with wasmtime's wording in place), and
 * the trap code is decided by V8's message and the trap's innermost frame (classifyTrap,
 * tableTrapSite) — so both are read here, on the error as the engine threw it, and recorded by
 * identity; the outcome uses the record whatever the glue did to the message since.
 */
function coreInstances(req: ComponentRequest, ledger: GasLedger) {
  const instances: WebAssembly.Instance[] = [];
  /** The pinned name of each instance's module (for a table trap's site). */
  const names = new Map<unknown, string>();
  /** Engine errors classified as they left core code (or instantiation), by identity. */
  const classified = new WeakMap<object, Classified>();
  /** Each wrapper handed to the glue → the export it wraps (passed back unwrapped as an import). */
  const unwrapped = new WeakMap<object, unknown>();
  const record = (e: Error, failure: GuestFailureCode, site: TableTrapSite | undefined): void => {
    if (!classified.has(e)) classified.set(e, { failure, site }); // the innermost boundary wins
  };
  const wrapExport = (fn: (...args: unknown[]) => unknown): ((...args: unknown[]) => unknown) => {
    const wrapper = (...args: unknown[]): unknown => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError)
          record(
            e,
            classifyTrap(e),
            tableTrapSite(e, (i) => names.get(i)),
          );
        throw e;
      }
    };
    unwrapped.set(wrapper, fn);
    return wrapper;
  };
  const getCoreModule = (name: string): WebAssembly.Module => {
    const m = Object.hasOwn(req.modules, name) ? req.modules[name] : undefined;
    if (m === undefined) throw new UnknownCoreModule(name);
    return m;
  };
  const instantiateCore = (
    module: WebAssembly.Module,
    imports: WebAssembly.Imports | undefined,
  ): WebAssembly.Instance => {
    const name = Object.keys(req.modules).find((n) => req.modules[n] === module);
    // Only the pinned modules are instantiated (and only they have a known cost).
    if (name === undefined) throw new UnknownCoreModule('(a module that was not pinned)');
    // Instantiation work is paid before it is done: every instance the base (the glue decides
    // how many instances a run creates), plus its tables, segments, globals and initial pages.
    const cost = COMPONENT_INSTANCE_GAS + (req.instantiationGas?.[name] ?? 0);
    if (ledger.charge(BigInt(cost)) < 0n) throw new GasExhaustedSignal();
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, linkImports(imports, unwrapped, ledger.counter));
    } catch (e) {
      // As in preview1: a link error is a violation, a trapping active segment out of bounds, a
      // memory the engine cannot reserve (RangeError) ERR_COMPUTE_MEMORY_EXHAUSTED.
      if (e instanceof Error) record(e, instantiationFailure(e), undefined);
      throw e;
    }
    // Fail closed on a module metered on a counter of its own (not instrumented with sharedGas):
    // its charges would escape the run's budget. An exported imported global is the same object.
    if (instance.exports.__helm_gas !== ledger.counter) throw new UnsharedCounter();
    instances.push(instance);
    names.set(instance, name);
    const start = instance.exports.__helm_start as (() => void) | undefined;
    if (start !== undefined) wrapExport(start)();
    const exports: Record<string, unknown> = Object.create(null);
    for (const [key, value] of Object.entries(instance.exports))
      exports[key] =
        typeof value === 'function' ? wrapExport(value as (...args: unknown[]) => unknown) : value;
    // What the glue reads off an instance is its `exports` (it destructures `{ exports }`).
    return Object.freeze({ exports: Object.freeze(exports) }) as unknown as WebAssembly.Instance;
  };
  return { instances, names, classified, getCoreModule, instantiateCore };
}

/** How the guest's code ended: its exit code, or the failure it stopped with. */
interface Ending {
  exitCode: number;
  failure: GuestFailureCode | undefined;
  site?: TableTrapSite | undefined;
}

/** Instantiates the component and calls its `run`, mapping what is thrown to an ending. */
function instantiateAndRun(
  instantiate: InstantiateComponent,
  imports: Record<string, Record<string, unknown>>,
  core: ReturnType<typeof coreInstances>,
): Ending {
  let phase: 'instantiate' | 'run' = 'instantiate';
  try {
    const root = instantiate(core.getCoreModule, imports, core.instantiateCore) as Record<
      string,
      RunExport | undefined
    >;
    const run = root.run ?? root['wasi:cli/run'];
    phase = 'run';
    if (run === undefined) return { exitCode: 0, failure: 'SANDBOX_VIOLATION' };
    run.run();
    return { exitCode: 0, failure: undefined };
  } catch (e) {
    if (e instanceof ExitSignal) return { exitCode: e.exitCode, failure: undefined };
    if (e instanceof OutputLimitSignal) return { exitCode: 0, failure: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' };
    if (e instanceof ForbiddenHostCall) return { exitCode: 0, failure: 'SANDBOX_VIOLATION' };
    const known = typeof e === 'object' && e !== null ? core.classified.get(e) : undefined;
    if (known !== undefined) return { exitCode: 0, failure: known.failure, site: known.site };
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError)
      return { exitCode: 0, failure: classifyTrap(e), site: tableTrapSite(e, (i) => core.names.get(i)) };
    if (phase === 'run' && typeof e === 'object' && e !== null && 'payload' in e)
      return { exitCode: 1, failure: undefined }; // run → err
    return { exitCode: 0, failure: phase === 'instantiate' ? 'SANDBOX_VIOLATION' : 'SANDBOX_TRAP' };
  }
}

/** What the instances' flags and memories say. */
function tally(instances: readonly WebAssembly.Instance[]) {
  let growFailed = false;
  const memories = new Set<WebAssembly.Memory>();
  for (const instance of instances) {
    growFailed ||= (instance.exports.__helm_grow_failed as WebAssembly.Global).value !== 0;
    for (const value of Object.values(instance.exports))
      if (value instanceof WebAssembly.Memory) memories.add(value);
  }
  let peak = 0;
  for (const m of memories) peak += m.buffer.byteLength;
  return { growFailed, peak };
}

export function runComponent(instantiate: InstantiateComponent, req: ComponentRequest): WorkerOutcome {
  // Host calls are charged on the run's ledger (the glue does not say which instance is calling).
  const ledger = new GasLedger(req.gas);
  /** Gas used when the output cap ended the run (then every counter is set below zero). */
  let usedAtCap: bigint | undefined;
  const host = createPreview2Host(
    {
      stdin: req.stdin,
      maxOutputBytes: req.maxOutputBytes,
      seed: req.seed,
      virtualTimeMs: req.virtualTimeMs,
    },
    (cost) => {
      // Once below zero every further call throws too; the outcome is ERR_COMPUTE_GAS_EXHAUSTED
      // whatever the glue does with the exception.
      if (ledger.charge(BigInt(cost)) < 0n) throw new GasExhaustedSignal();
    },
    () => {
      // The output cap ends the run as in preview1. The glue lowers what the host throws as a
      // stream error and lets the guest go on, so every counter is set below zero: the guest's
      // next charge traps, and so does every later host call.
      if (usedAtCap !== undefined) return;
      usedAtCap = ledger.freeze();
    },
  );
  const core = coreInstances(req, ledger);
  const { exitCode, failure, site } = instantiateAndRun(instantiate, host.imports, core);
  const exhausted = usedAtCap === undefined && ledger.spent > ledger.budget;
  const spent = usedAtCap ?? ledger.spent;
  const t = tally(core.instances);
  const base = {
    stdout: host.stdout(),
    stderr: host.stderr(),
    // (the budget is a safe integer; a larger `spent` is past it, whatever its rounding)
    gas_used: Math.min(Number(spent), Number(ledger.budget)),
    peak_memory_bytes: t.peak,
  };
  if (host.outputExhausted())
    return { ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED', ...base, exit_code: null };
  if (exhausted) return { ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', ...base, exit_code: null };
  if (
    failure !== 'ERR_COMPUTE_OUTPUT_EXHAUSTED' &&
    (failure !== undefined || exitCode !== 0) &&
    t.growFailed
  ) {
    return {
      ok: false,
      code: 'ERR_COMPUTE_MEMORY_EXHAUSTED',
      ...base,
      exit_code: failure === undefined ? exitCode : null,
    };
  }
  if (failure !== undefined) {
    const table =
      site !== undefined && failure === 'SANDBOX_TRAP_INDIRECT_CALL' ? { table_trap_site: site } : {};
    return { ok: false, code: failure, ...base, exit_code: null, ...table };
  }
  if (exitCode !== 0) return { ok: false, code: 'SANDBOX_EXIT_NONZERO', ...base, exit_code: exitCode };
  return { ok: true, ...base, exit_code: 0 };
}
