// Process isolation for @helm/runtime-sandbox: an IsolationPort whose calls run in warm child
// processes, each hosting the TCB's own threadIsolation. When a call's deadline passes, its child
// is killed with SIGKILL — the operating system stops every thread of it, whatever the engine was
// doing — and a fresh child replaces it. close() kills every child. Not part of the TCB: it spawns
// processes; what runs inside them is the TCB's code (see TCB_POLICY.md).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type GuestResourceLimits,
  guestResourceLimits,
  type IsolatedCall,
  type IsolatedModule,
  type IsolationOutcome,
  type IsolationPort,
  THREAD_ISOLATION_MODULE,
} from '@helm/runtime-sandbox';
import type { ChildMessage, ParentMessage, WireCall } from './protocol.js';

/** Node's timers clamp any delay above 2^31 − 1 ms to 1 ms; longer deadlines are armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** A deadline timer for any delay (a timer that only fires once `ms` have passed), cancellable. */
interface DeadlineTimer {
  cancel(): void;
}

function armDeadline(ms: number, onExpire: () => void): DeadlineTimer {
  let handle: ReturnType<typeof setTimeout>;
  let left = ms;
  const step = (): void => {
    const wait = Math.min(left, MAX_TIMER_MS);
    left -= wait;
    handle = setTimeout(left > 0 ? step : onExpire, wait);
  };
  step();
  return { cancel: () => clearTimeout(handle) };
}

export interface ProcessIsolationOptions {
  /** Child processes (default 1, at most 64), started by the first registration or call, kept warm. */
  readonly size?: number;
  /** Limits of the worker thread that runs the guest inside each child (runtime-sandbox defaults). */
  readonly resourceLimits?: GuestResourceLimits;
  /** The `node` binary for the children (default: the running one). */
  readonly execPath?: string;
  /** Module the children load `threadIsolation` from (default: the one this process loaded). */
  readonly hostModule?: string;
}

/** A process isolation port, plus what it is doing (observability and tests). */
export interface ProcessIsolation extends IsolationPort {
  /** Child processes started so far. */
  readonly spawned: number;
  /** Process ids of the children alive now. */
  pids(): number[];
}

/** Longest wait for a child killed at a deadline to be reaped before its call is answered anyway. */
export const KILL_WAIT_MS = 100;

/** The child entry beside `moduleUrl`: `child.ts` from sources (tests), `child.js` from dist. */
export function childEntryUrl(moduleUrl: string): URL {
  return new URL(moduleUrl.endsWith('.ts') ? './child.ts' : './child.js', moduleUrl);
}

interface Job {
  readonly call: IsolatedCall;
  readonly timeoutMs: number;
  readonly resolve: (outcome: IsolationOutcome) => void;
}

interface Child {
  readonly proc: ChildProcess;
  /** The IPC channel (fork always creates it, even when the spawn then fails). */
  readonly channel: { ref(): void; unref(): void };
  readonly exited: Promise<void>;
  /** Module ids sent to this child (later calls send a reference). */
  readonly loaded: Set<string>;
  /** Loads not acknowledged yet: id → waiters. */
  readonly loading: Map<string, Array<(error: string | undefined) => void>>;
  ready: boolean;
  failure: string | undefined;
  job: (Job & { readonly id: number; readonly timer: DeadlineTimer | undefined }) | null;
}

const crashed = (message: string): IsolationOutcome => ({ kind: 'crashed', out_of_memory: false, message });
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs calls in `size` warm child processes. A child takes calls once it has started its guest
 * worker and compiled every registered module; a call's deadline timer starts when the call is
 * handed to a child, and at the deadline the child is SIGKILLed before the call is answered.
 *
 * Longer than ~80 lines on purpose: a factory whose body is the pool state (children, registry,
 * queue) and the port's methods and child lifecycle handlers closing over it (the longest, spawn, ~60 lines).
 */
export function processIsolation(options: ProcessIsolationOptions = {}): ProcessIsolation {
  const size = options.size ?? 1;
  if (!Number.isSafeInteger(size) || size < 1 || size > 64) {
    throw new RangeError('processIsolation: size must be an integer from 1 to 64');
  }
  const limits = JSON.stringify(guestResourceLimits(options.resourceLimits));
  const execPath = options.execPath ?? process.execPath;
  const hostModule = options.hostModule ?? THREAD_ISOLATION_MODULE;
  const entry = fileURLToPath(childEntryUrl(import.meta.url));
  const children: Child[] = [];
  const queue: Job[] = [];
  /** Every prepared module: sent to each child as it starts. */
  const registry = new Map<string, IsolatedModule>();
  let missing = size;
  let nextId = 1;
  let spawned = 0;
  let closed = false;

  // Children never keep the parent alive while idle; while calls or loads are outstanding they do.
  const updateRefs = (): void => {
    const busy = queue.length > 0 || children.some((c) => c.job !== null || c.loading.size > 0);
    for (const c of children) {
      if (busy) {
        c.proc.ref();
        c.channel.ref();
      } else {
        c.proc.unref();
        c.channel.unref();
      }
    }
  };

  const send = (child: Child, message: ParentMessage): void => {
    child.proc.send(message);
  };

  /** Sends `module` to `child` unless it has it; resolves with the child's compile error, if any. */
  const load = (child: Child, module: IsolatedModule): Promise<string | undefined> => {
    if (child.loaded.has(module.id) && !child.loading.has(module.id)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiters = child.loading.get(module.id);
      if (waiters !== undefined) {
        waiters.push(resolve);
        return;
      }
      child.loading.set(module.id, [resolve]);
      child.loaded.add(module.id);
      send(child, { t: 'load', module });
    });
  };

  const spawn = (): void => {
    spawned++;
    const proc = fork(entry, [hostModule, limits], {
      execPath,
      execArgv: [],
      env: {},
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let onExit: () => void = () => {};
    const exited = new Promise<void>((resolve) => {
      onExit = resolve;
    });
    const child: Child = {
      proc,
      channel: proc.channel as NonNullable<ChildProcess['channel']>,
      exited,
      loaded: new Set(),
      loading: new Map(),
      ready: false,
      failure: undefined,
      job: null,
    };
    children.push(child);
    proc.on('message', (message: ChildMessage) => {
      if (message.t === 'ready') {
        child.ready = true;
        pump();
      } else if (message.t === 'failed') {
        child.failure = message.message;
      } else if (message.t === 'loaded') {
        const waiters = child.loading.get(message.id) ?? [];
        child.loading.delete(message.id);
        if (message.error !== undefined) child.loaded.delete(message.id);
        for (const w of waiters) w(message.error);
        updateRefs();
      } else if (child.job !== null && child.job.id === message.id) {
        const job = child.job;
        job.timer?.cancel();
        child.job = null;
        job.resolve(message.outcome);
        pump();
      }
    });
    const gone = (reason: string): void => {
      onExit();
      // A dead child needs no module: release whoever waits for its loads.
      for (const waiters of child.loading.values()) for (const w of waiters) w(undefined);
      child.loading.clear();
      lost(child, child.failure ?? reason);
    };
    proc.on('exit', (code, signal) => gone(`isolation process exited (${signal ?? `code ${code}`})`));
    proc.on('error', (e) => {
      // Spawn failure (no 'exit' follows) or a failed send: either way this child is unusable.
      proc.kill('SIGKILL');
      gone(`isolation process failed: ${e.message}`);
    });
    for (const module of registry.values()) void load(child, module);
  };

  /** Replaces a child on the next turn (spawning blocks for milliseconds: answer the caller first). */
  const replace = (): void => {
    setImmediate(() => {
      if (!closed) spawn();
      pump();
    });
  };

  /** Takes `child` out of the pool; false if it was out already (killed by us, or reported twice). */
  const remove = (child: Child): boolean => {
    const index = children.indexOf(child);
    if (index >= 0) children.splice(index, 1);
    return index >= 0;
  };

  /** A child died (or failed) on its own: fail its call; replace it if it ever became ready. */
  const lost = (child: Child, reason: string): void => {
    if (!remove(child)) return;
    const job = child.job;
    child.job = null;
    if (job !== null) {
      job.timer?.cancel();
      job.resolve(crashed(reason));
    }
    if (!child.ready) {
      // It could not even start: do not respawn in a loop. Fail the waiting calls unless another
      // child can still take them; the next call tries again.
      missing++;
      if (children.length === 0) for (const waiting of queue.splice(0)) waiting.resolve(crashed(reason));
    } else {
      replace();
    }
    updateRefs();
  };

  /**
   * The deadline passed: SIGKILL the child (no code of it runs after that) and answer once it is
   * reaped — the kernel has torn it down, so it uses no CPU at all any more — or after
   * KILL_WAIT_MS at the latest. Then replace it.
   */
  const expire = (child: Child): void => {
    remove(child);
    const job = child.job as Job;
    child.job = null;
    child.proc.kill('SIGKILL');
    void Promise.race([child.exited, delay(KILL_WAIT_MS)]).then(() => {
      job.resolve({ kind: 'timeout' });
      replace();
    });
  };

  const start = (): void => {
    for (; missing > 0 && !closed; missing--) spawn();
  };

  const pump = (): void => {
    for (const child of children) {
      if (queue.length === 0) break;
      if (!child.ready || child.job !== null) continue;
      const job = queue.shift() as Job;
      const id = nextId++;
      const { module } = job.call;
      const wire: WireCall = {
        ...job.call,
        module: child.loaded.has(module.id) ? { kind: 'ref', id: module.id } : module,
      };
      child.loaded.add(module.id);
      const timer = Number.isFinite(job.timeoutMs)
        ? armDeadline(job.timeoutMs, () => expire(child))
        : undefined;
      child.job = { ...job, id, timer };
      send(child, { t: 'run', id, call: wire });
    }
    updateRefs();
  };

  return {
    get spawned() {
      return spawned;
    },

    pids() {
      return children.flatMap((c) => (c.proc.pid === undefined ? [] : [c.proc.pid]));
    },

    async prepare(module) {
      if (closed) return;
      registry.set(module.id, module);
      start();
      // Every child compiles the module before the first call: compile time is never inside a
      // deadline. (Children started later get it before they report ready.)
      const pending = children.map((c) => load(c, module));
      updateRefs();
      const errors = await Promise.all(pending);
      updateRefs();
      const error = errors.find((e) => e !== undefined);
      if (error !== undefined) {
        registry.delete(module.id);
        throw new Error(`module ${module.id} does not compile: ${error}`);
      }
    },

    run(call, timeoutMs) {
      if (closed) return Promise.resolve(crashed('sandbox closed'));
      return new Promise((resolve) => {
        queue.push({ call, timeoutMs, resolve });
        start();
        pump();
      });
    },

    async close() {
      closed = true;
      registry.clear();
      const all = children.splice(0);
      for (const child of all) {
        child.proc.kill('SIGKILL');
        const job = child.job;
        child.job = null;
        if (job !== null) {
          job.timer?.cancel();
          job.resolve(crashed('sandbox closed'));
        }
      }
      for (const job of queue.splice(0)) job.resolve(crashed('sandbox closed'));
      await Promise.all(all.map((c) => Promise.race([c.exited, delay(1000)])));
    },
  };
}
