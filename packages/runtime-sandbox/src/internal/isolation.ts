// The isolation port: where a call's guest code runs and how it is stopped. The sandbox does
// everything else (validate, instrument, pin, outcome mapping); a port only runs pinned modules and
// must stop a call's work when its deadline passes. `threadIsolation` (the default) runs calls on
// warm worker threads; a port that runs them in killable child processes lives outside the TCB
// (`@helm/sandbox-process`) and hosts this very module in each child (see THREAD_ISOLATION_MODULE).
//
// This file is loaded by plain Node in those children (from src/ with type stripping in tests), so
// it imports its siblings with `.ts` specifiers and no other package.
import type { ComponentRequest } from './component-run.ts';
import { type GuestOutcome, type GuestRequest, tableTrapCode } from './guest-run.ts';
import { componentInstanceCost, instantiationCost } from './instantiation-cost.ts';
import { type PoolOutcome, siblingModuleUrl, WorkerPool } from './pool.ts';

/** A preview1 module as pinned at registration: `id` is the digest of exactly these bytes. */
export interface IsolatedCoreModule {
  readonly kind: 'core';
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** A preview2 component as pinned at registration: the jco glue and its instrumented core modules. */
export interface IsolatedComponent {
  readonly kind: 'component';
  readonly id: string;
  readonly glue: string;
  readonly core_modules: Readonly<Record<string, Uint8Array>>;
}

export type IsolatedModule = IsolatedCoreModule | IsolatedComponent;

/** One call, as plain data (it may cross a process boundary). */
export interface IsolatedCall {
  readonly module: IsolatedModule;
  readonly stdin: Uint8Array;
  readonly gas: number;
  readonly maxOutputBytes: number;
  readonly seed: Uint8Array;
  readonly virtualTimeMs: number;
}

export type IsolationOutcome =
  | { readonly kind: 'done'; readonly outcome: GuestOutcome }
  /** The deadline passed; the port has stopped (or is stopping, within its documented bound) the call's work. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'crashed'; readonly out_of_memory: boolean; readonly message: string };

/**
 * Where guest code runs. Contract (docs/spec/sandbox.md §Deadline and isolation): `run` resolves
 * (never rejects) with the call's outcome, or with `timeout` once `timeoutMs` has passed — and then
 * the call's work is stopped; `close` stops every call and every resource the port holds, and
 * pending calls resolve as `crashed`. `timeoutMs` may be `Infinity` (the caller enforces the
 * deadline itself, e.g. by killing the process the port runs in).
 */
export interface IsolationPort {
  /** Called once per registered module before its first run (compile ahead, warm up); may throw. */
  prepare(module: IsolatedModule): Promise<void>;
  run(call: IsolatedCall, timeoutMs: number): Promise<IsolationOutcome>;
  close(): Promise<void>;
}

/** Host-side limits of the worker thread a call runs on (Node `resourceLimits`, in MB). */
export interface GuestResourceLimits {
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
  readonly codeRangeSizeMb?: number;
  readonly stackSizeMb?: number;
}

export interface ThreadIsolationOptions {
  /** Workers for core modules (default 1, at most 64); each component gets one more of its own. */
  readonly size?: number;
  /** Default 64 MiB old generation, 16 MiB young generation, 64 MiB code range, 4 MiB stack. */
  readonly resourceLimits?: GuestResourceLimits;
}

/** The URL of this module: load it in another process to host `threadIsolation` there. */
export const THREAD_ISOLATION_MODULE: string = import.meta.url;

/** Fills in the default worker limits. */
export function guestResourceLimits(limits: GuestResourceLimits = {}): Required<GuestResourceLimits> {
  return {
    maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb ?? 64,
    maxYoungGenerationSizeMb: limits.maxYoungGenerationSizeMb ?? 16,
    codeRangeSizeMb: limits.codeRangeSizeMb ?? 64,
    stackSizeMb: limits.stackSizeMb ?? 4,
  };
}

/**
 * The main module of a component's worker: import the pinned glue and the component host, then
 * serve calls. Both specifiers are absolute (a data: module cannot resolve relative ones).
 */
export function componentWorkerUrl(js: string): URL {
  const glue = `data:text/javascript;base64,${Buffer.from(js, 'utf8').toString('base64')}`;
  const host = siblingModuleUrl('component-worker').href;
  const entry = [
    `import { instantiate } from ${JSON.stringify(glue)};`,
    `import { serveComponent } from ${JSON.stringify(host)};`,
    'serveComponent(instantiate);',
  ].join('\n');
  return new URL(`data:text/javascript;base64,${Buffer.from(entry, 'utf8').toString('base64')}`);
}

interface PreparedCore {
  readonly kind: 'core';
  readonly module: WebAssembly.Module;
  /** What instantiating it costs (instantiationCost of the pinned bytes). */
  readonly instantiationGas: number;
}

interface PreparedComponent {
  readonly kind: 'component';
  readonly modules: Readonly<Record<string, WebAssembly.Module>>;
  /** What instantiating each core module costs (instantiationCost of its pinned bytes). */
  readonly instantiationGas: Readonly<Record<string, number>>;
  readonly pool: WorkerPool;
}

/**
 * An out-of-bounds table trap reported by the worker with its site: the code is decided by the
 * opcode at that offset of the pinned bytes (tableTrapCode), and the internal field is removed.
 */
function resolveTableTrap(result: PoolOutcome, module: IsolatedModule): IsolationOutcome {
  if (result.kind !== 'done') return result;
  const { table_trap_site: site, ...outcome } = result.outcome;
  if (site === undefined) return { kind: 'done', outcome };
  let bytes: Uint8Array | undefined;
  if (site.module === null) bytes = module.kind === 'core' ? module.bytes : undefined;
  else if (module.kind === 'component' && Object.hasOwn(module.core_modules, site.module))
    bytes = module.core_modules[site.module];
  if (bytes === undefined) return { kind: 'done', outcome };
  return { kind: 'done', outcome: { ...outcome, code: tableTrapCode(bytes, site.offset) } };
}

const CLOSED: IsolationOutcome = { kind: 'crashed', out_of_memory: false, message: 'sandbox closed' };

/**
 * Runs calls on warm worker threads and terminates a call's worker at its deadline. Termination
 * is only as prompt as the engine makes it: V8 does not stop a thread inside a long engine-internal
 * operation or, in baseline-tier code, between loop iterations that do little bytecode but much
 * work (see docs/spec/sandbox.md §Deadline and isolation) — use a process isolation port where the
 * deadline must stop the CPU.
 */
export function threadIsolation(options: ThreadIsolationOptions = {}): IsolationPort {
  const resourceLimits = guestResourceLimits(options.resourceLimits);
  const pool = new WorkerPool({ size: options.size ?? 1, resourceLimits });
  const prepared = new Map<string, Promise<PreparedCore | PreparedComponent>>();
  let closed = false;

  const compile = async (module: IsolatedModule): Promise<PreparedCore | PreparedComponent> => {
    if (module.kind === 'core') {
      const instantiationGas = instantiationCost(module.bytes);
      return { kind: 'core', module: await WebAssembly.compile(module.bytes), instantiationGas };
    }
    const modules: Record<string, WebAssembly.Module> = {};
    const instantiationGas: Record<string, number> = {};
    for (const name of Object.keys(module.core_modules).sort()) {
      const bytes = module.core_modules[name] as Uint8Array;
      instantiationGas[name] = componentInstanceCost(bytes);
      modules[name] = await WebAssembly.compile(bytes);
    }
    const own = new WorkerPool({ size: 1, resourceLimits, url: componentWorkerUrl(module.glue) });
    return { kind: 'component', modules, instantiationGas, pool: own };
  };
  const get = (module: IsolatedModule): Promise<PreparedCore | PreparedComponent> => {
    let entry = prepared.get(module.id);
    if (entry === undefined) {
      entry = compile(module);
      prepared.set(module.id, entry);
      // A failed compile is not cached: the next prepare or run tries again and reports it again.
      entry.catch(() => prepared.delete(module.id));
    }
    return entry;
  };

  return {
    async prepare(module) {
      await get(module);
    },

    async run(call, timeoutMs) {
      if (closed) return CLOSED;
      let entry: PreparedCore | PreparedComponent;
      try {
        entry = await get(call.module);
      } catch (e) {
        return { kind: 'crashed', out_of_memory: false, message: `compile failed: ${String(e)}` };
      }
      if (closed) return CLOSED;
      const common = {
        stdin: call.stdin,
        gas: call.gas,
        maxOutputBytes: call.maxOutputBytes,
        seed: call.seed,
        virtualTimeMs: call.virtualTimeMs,
      };
      if (entry.kind === 'core') {
        const req: GuestRequest = {
          module: entry.module,
          instantiationGas: entry.instantiationGas,
          ...common,
        };
        return resolveTableTrap(await pool.run(req, timeoutMs), call.module);
      }
      const req: ComponentRequest = {
        modules: entry.modules,
        instantiationGas: entry.instantiationGas,
        ...common,
      };
      return resolveTableTrap(await entry.pool.run(req, timeoutMs), call.module);
    },

    async close() {
      closed = true;
      const pools = [pool];
      for (const entry of prepared.values()) {
        const p = await entry.catch(() => undefined);
        if (p?.kind === 'component') pools.push(p.pool);
      }
      prepared.clear();
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}
