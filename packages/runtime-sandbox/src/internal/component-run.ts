// Runs one call of a jco-transpiled WASI preview2 command component inside the component worker.
// Every core module the generated code asks for comes from `getCoreModule`, which only serves
// the pinned, instrumented modules; every instance is created by our `instantiateCore`, which
// sets its gas budget and runs its (relocated) start function.
import {
  classifyTrap,
  type GuestFailureCode,
  type TableTrapSite,
  tableTrapSite,
  type WorkerOutcome,
} from './guest-run.ts';
import { createPreview2Host } from './preview2-host.ts';
import { ExitSignal, GasExhaustedSignal, OutputLimitSignal } from './wasi-preview1.ts';

export interface ComponentRequest {
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  readonly stdin: Uint8Array;
  readonly gas: number;
  readonly maxOutputBytes: number;
  readonly seed: Uint8Array;
  readonly virtualTimeMs: number;
}

/** The `instantiate` function jco generates with `instantiation: 'sync'`. */
export type InstantiateComponent = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => unknown;

/** Thrown when the generated code asks for a core module that was not pinned at registration. */
class UnknownCoreModule extends Error {}

interface RunExport {
  run(): void;
}

/** The core instances of one run: served only from the pinned modules, each with its gas budget. */
function coreInstances(req: ComponentRequest) {
  const budget = BigInt(req.gas);
  const instances: WebAssembly.Instance[] = [];
  /** The pinned name of each instance's module (for a table trap's site). */
  const names = new Map<unknown, string>();
  const getCoreModule = (name: string): WebAssembly.Module => {
    const m = Object.hasOwn(req.modules, name) ? req.modules[name] : undefined;
    if (m === undefined) throw new UnknownCoreModule(name);
    return m;
  };
  const instantiateCore = (
    module: WebAssembly.Module,
    imports: WebAssembly.Imports,
  ): WebAssembly.Instance => {
    const instance = new WebAssembly.Instance(module, imports);
    (instance.exports.__helm_gas as WebAssembly.Global).value = budget;
    instances.push(instance);
    const name = Object.keys(req.modules).find((n) => req.modules[n] === module);
    if (name !== undefined) names.set(instance, name);
    const start = instance.exports.__helm_start as (() => void) | undefined;
    if (start !== undefined) start();
    return instance;
  };
  return { instances, names, getCoreModule, instantiateCore };
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
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError)
      return { exitCode: 0, failure: classifyTrap(e), site: tableTrapSite(e, (i) => core.names.get(i)) };
    if (phase === 'run' && typeof e === 'object' && e !== null && 'payload' in e)
      return { exitCode: 1, failure: undefined }; // run → err
    return { exitCode: 0, failure: phase === 'instantiate' ? 'SANDBOX_VIOLATION' : 'SANDBOX_TRAP' };
  }
}

/** Gas used by the host and every instance, and what the instances' flags and memories say. */
function tally(instances: readonly WebAssembly.Instance[], gas: number, hostLeft: number) {
  const budget = BigInt(gas);
  let used = BigInt(hostLeft < 0 ? gas : gas - hostLeft);
  let exhausted = hostLeft < 0;
  let growFailed = false;
  const memories = new Set<WebAssembly.Memory>();
  for (const instance of instances) {
    const remaining = (instance.exports.__helm_gas as WebAssembly.Global).value as bigint;
    exhausted ||= remaining < 0n;
    used += remaining < 0n ? budget : budget - remaining;
    growFailed ||= (instance.exports.__helm_grow_failed as WebAssembly.Global).value !== 0;
    for (const value of Object.values(instance.exports))
      if (value instanceof WebAssembly.Memory) memories.add(value);
  }
  let peak = 0;
  for (const m of memories) peak += m.buffer.byteLength;
  return { used: Number(used), exhausted, growFailed, peak };
}

export function runComponent(instantiate: InstantiateComponent, req: ComponentRequest): WorkerOutcome {
  // Host calls are charged on a counter of their own that starts at the budget, like one more
  // core instance (the glue does not say which instance is calling).
  let hostLeft = req.gas;
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
      hostLeft -= cost;
      if (hostLeft < 0) throw new GasExhaustedSignal();
    },
  );
  const core = coreInstances(req);
  const { exitCode, failure, site } = instantiateAndRun(instantiate, host.imports, core);
  const t = tally(core.instances, req.gas, hostLeft);
  const base = {
    stdout: host.stdout(),
    stderr: host.stderr(),
    gas_used: t.used,
    peak_memory_bytes: t.peak,
  };
  if (t.exhausted) return { ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED', ...base, exit_code: null };
  if (host.outputExhausted())
    return { ok: false, code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED', ...base, exit_code: null };
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
