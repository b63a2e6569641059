// Warm worker pool. Each call runs on an idle worker; a call that passes its deadline gets its
// worker terminated (the only way to stop a running wasm loop) and the worker is replaced at once,
// so the next call does not pay the spawn cost.
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { GuestRequest, WorkerOutcome } from './guest-run.js';

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

export type PoolOutcome =
  | { readonly kind: 'done'; readonly outcome: WorkerOutcome }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'crashed'; readonly out_of_memory: boolean; readonly message: string };

/** Longest close() waits for its workers to stop. */
export const CLOSE_WAIT_MS = 1000;

export interface PoolOptions {
  readonly size: number;
  readonly resourceLimits: ResourceLimits;
  /** Worker entry (default: the core-module worker next to this file). */
  readonly url?: URL;
}

interface Job {
  readonly req: object;
  readonly timeoutMs: number;
  readonly resolve: (o: PoolOutcome) => void;
}

interface Slot {
  worker: Worker;
  /** Set once the worker has answered a call (it loaded and works). */
  served: boolean;
  job: (Job & { id: number; timer: DeadlineTimer | undefined }) | null;
}

/** A worker entry next to this file: `.ts` when running from sources (tests), `.js` from dist. */
export function workerEntryUrl(selfUrl: string, name = 'worker'): URL {
  return new URL(`./${name}.${selfUrl.endsWith('.ts') ? 'ts' : 'js'}`, selfUrl);
}

/** This package's module URL for `name`, as the pool resolves it (used to build component workers). */
export function siblingModuleUrl(name: string): URL {
  return workerEntryUrl(import.meta.url, name);
}

export class WorkerPool {
  private readonly options: PoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly url: URL;
  private nextId = 1;
  private closed = false;
  /** Slots without a worker (not started yet, or died idle before serving): spawned on demand. */
  private missing = 0;
  /** Workers started so far (observability and tests). */
  spawned = 0;

  constructor(options: PoolOptions) {
    this.options = options;
    this.url = options.url ?? workerEntryUrl(import.meta.url);
    // Workers start with the first call and then stay warm.
    this.missing = options.size;
  }

  private spawn(): Slot {
    const worker = new Worker(this.url, { resourceLimits: this.options.resourceLimits });
    worker.unref();
    this.spawned++;
    const slot: Slot = { worker, served: false, job: null };
    worker.on('message', (msg: { id: number; outcome?: WorkerOutcome; error?: string }) => {
      const job = slot.job;
      if (job === null || job.id !== msg.id) return;
      slot.served = true;
      if (msg.outcome !== undefined) this.finish(slot, { kind: 'done', outcome: msg.outcome });
      else this.finish(slot, { kind: 'crashed', out_of_memory: false, message: msg.error ?? 'worker error' });
    });
    worker.on('error', (err: Error & { code?: string }) => {
      this.fail(slot, {
        kind: 'crashed',
        out_of_memory: err.code === 'ERR_WORKER_OUT_OF_MEMORY',
        message: err.message,
      });
    });
    worker.on('exit', () => {
      this.fail(slot, { kind: 'crashed', out_of_memory: false, message: 'worker exited' });
    });
    return slot;
  }

  /** Runs `req` on an idle worker; `timeoutMs` may be `Infinity` (no deadline timer). */
  run(req: GuestRequest | object, timeoutMs: number): Promise<PoolOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ req, timeoutMs, resolve });
      for (; this.missing > 0 && !this.closed; this.missing--) this.slots.push(this.spawn());
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null) continue;
      const job = this.queue.shift() as Job;
      const id = this.nextId++;
      // An infinite timeout means "no deadline here": the caller enforces it (process isolation).
      const timer = Number.isFinite(job.timeoutMs)
        ? armDeadline(job.timeoutMs, () => this.fail(slot, { kind: 'timeout' }))
        : undefined;
      slot.job = { ...job, id, timer };
      slot.worker.postMessage({ ...job.req, id });
    }
  }

  private finish(slot: Slot, outcome: PoolOutcome): void {
    const job = slot.job;
    if (job === null) return;
    job.timer?.cancel();
    slot.job = null;
    job.resolve(outcome);
    this.pump();
  }

  /** Ends the slot's job with `outcome`, terminates its worker and puts a fresh one in its place. */
  private fail(slot: Slot, outcome: PoolOutcome): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already replaced
    this.slots.splice(index, 1);
    const old = slot.worker;
    old.removeAllListeners();
    old.on('error', () => {});
    void old.terminate();
    const job = slot.job;
    slot.job = null;
    if (job !== null) {
      job.timer?.cancel();
      job.resolve(outcome);
    }
    if (job === null && !slot.served) {
      // It died before serving anything (e.g. its entry failed to load): do not respawn in a loop.
      this.missing++;
      return;
    }
    // Spawning takes milliseconds: answer the caller first, replace the worker on the next turn.
    setImmediate(() => {
      if (this.closed) return;
      this.slots.push(this.spawn());
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.splice(0).map((s) => {
      if (s.job !== null) {
        s.job.timer?.cancel();
        s.job.resolve({ kind: 'crashed', out_of_memory: false, message: 'sandbox closed' });
      }
      s.worker.removeAllListeners();
      return s.worker.terminate();
    });
    for (const job of this.queue.splice(0))
      job.resolve({ kind: 'crashed', out_of_memory: false, message: 'sandbox closed' });
    // A worker the engine does not stop (docs/spec/sandbox.md §"Deadline and isolation") would
    // keep this waiting forever: wait at most CLOSE_WAIT_MS for the terminations.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([Promise.all(workers), bound]);
    clearTimeout(timer);
  }
}
