// A worker pool for phase 1 of receipt-chain verification. The chain is cut into slices; workers
// check signatures and per-receipt rules (verifyReceiptSignatures, pure); the main thread then runs
// the cheap sequential link pass (linkReceipts). The answer — including which failure is first —
// is identical to verifyReceiptChain's.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type ChainVerifyResult,
  type LinkOptions,
  linkReceipts,
  RECEIPT_SIGNER_ROLE,
  type ReceiptFailure,
  type ReceiptSummary,
} from '@helm/receipts';
import {
  type EnvelopeTask,
  type EnvelopeTaskResult,
  type EnvelopeVerdict,
  type NodeTask,
  type NodeTaskResult,
  type NodeVerdict,
  packSlice,
  type VerifyTask,
  type VerifyTaskResult,
} from './protocol.js';

export interface ParallelVerifyOptions extends LinkOptions {
  /** The trusted receipt keys: key id → raw Ed25519 public key (sent to the workers). */
  readonly keys: ReadonlyMap<string, Uint8Array>;
  /**
   * Optional main-thread authorization of each signing key at the trust registry state its receipt
   * committed to (e.g. the registry's "valid for role at seq", called with the receipt's
   * `trust_seq`). A refusal is reported as KEY_UNKNOWN.
   */
  readonly authorize?: (keyid: string, role: string, trustSeq: number) => boolean;
  /** Receipts per task (default 256). */
  readonly sliceSize?: number;
  /**
   * Called once with the phase-1 summaries (index-aligned with `receipts`, up to the first phase-1
   * failure; before authorization and linking), e.g. to reuse them instead of verifying again.
   */
  readonly onSummaries?: (summaries: readonly ReceiptSummary[]) => void;
}

export interface ReceiptVerifyPoolOptions {
  /** Number of worker threads (default: available parallelism). */
  readonly size?: number;
  /** Worker entry override (tests). */
  readonly workerUrl?: URL;
}

/** Worker entry beside `moduleUrl`: the .ts source when running from source (tests), else the .js. */
export function workerEntry(moduleUrl: string): URL {
  return new URL(moduleUrl.endsWith('.ts') ? './worker.ts' : './worker.js', moduleUrl);
}

type Task = VerifyTask | EnvelopeTask | NodeTask;
type TaskResult = VerifyTaskResult | EnvelopeTaskResult | NodeTaskResult;

interface Pending {
  resolve(r: TaskResult): void;
  reject(e: Error): void;
}

export class ParallelVerifyError extends Error {
  override readonly name = 'ParallelVerifyError';
  readonly code: 'POOL_CLOSED' | 'WORKER_FAILED';
  constructor(code: 'POOL_CLOSED' | 'WORKER_FAILED', message: string) {
    super(message);
    this.code = code;
  }
}

export class ReceiptVerifyPool {
  readonly size: number;
  readonly #workerUrl: URL;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: { task: Task; pending: Pending }[] = [];
  readonly #inflight = new Map<Worker, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(options: ReceiptVerifyPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.#workerUrl = options.workerUrl ?? workerEntry(import.meta.url);
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(this.#workerUrl);
      w.on('message', (r: TaskResult) => this.#done(w, r));
      w.on('error', (e: Error) => this.#crashed(w, e));
      w.unref();
      this.#workers.push(w);
      this.#idle.push(w);
    }
  }

  #done(w: Worker, r: TaskResult): void {
    const p = this.#inflight.get(w);
    this.#inflight.delete(w);
    this.#idle.push(w);
    if (p) {
      if (r.error !== undefined) p.reject(new ParallelVerifyError('WORKER_FAILED', r.error));
      else p.resolve(r);
    }
    this.#pump();
  }

  /** A worker died: fail its task, drop it, and fail everything queued if none is left. */
  #crashed(w: Worker, e: Error): void {
    const p = this.#inflight.get(w);
    this.#inflight.delete(w);
    p?.reject(new ParallelVerifyError('WORKER_FAILED', e.message));
    this.#workers.splice(this.#workers.indexOf(w), 1);
    const idle = this.#idle.indexOf(w);
    if (idle >= 0) this.#idle.splice(idle, 1);
    if (this.#workers.length === 0) {
      for (const job of this.#queue.splice(0)) {
        job.pending.reject(new ParallelVerifyError('WORKER_FAILED', `no worker left: ${e.message}`));
      }
    }
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.pop() as Worker;
      const job = this.#queue.shift() as { task: Task; pending: Pending };
      this.#inflight.set(w, job.pending);
      w.ref();
      try {
        w.postMessage(job.task);
      } catch (e) {
        // Not structured-cloneable (e.g. a key that is not bytes): fail this task, keep the worker.
        this.#inflight.delete(w);
        this.#idle.push(w);
        job.pending.reject(new ParallelVerifyError('WORKER_FAILED', (e as Error).message));
      }
    }
    if (this.#inflight.size === 0) for (const w of this.#workers) w.unref();
  }

  #run(task: Omit<VerifyTask, 'id'>): Promise<VerifyTaskResult>;
  #run(task: Omit<EnvelopeTask, 'id'>): Promise<EnvelopeTaskResult>;
  #run(task: Omit<NodeTask, 'id'>): Promise<NodeTaskResult>;
  #run(task: Omit<Task, 'id'>): Promise<TaskResult> {
    if (this.#closed) return Promise.reject(new ParallelVerifyError('POOL_CLOSED', 'the pool is closed'));
    if (this.#workers.length === 0)
      return Promise.reject(new ParallelVerifyError('WORKER_FAILED', 'no worker left'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { ...task, id: this.#nextId++ } as Task, pending: { resolve, reject } });
      this.#pump();
    });
  }

  /**
   * Signatures of typed envelopes (e.g. guardian decisions) on a worker: for each item, null when
   * `verifyEnvelope(envelope, type, lookup)` of @helm/crypto accepts it, else its error's message
   * and code — where `lookup` answers from the item's keys. The caller resolves, for every key id
   * the envelope names, the key its own lookup returns, so the verdict is the one it would get.
   */
  async verifyEnvelopes(
    type: string,
    items: readonly (readonly [envelope: unknown, keys: ReadonlyMap<string, Uint8Array>])[],
  ): Promise<EnvelopeVerdict[]> {
    const r = await this.#run({
      kind: 'envelopes',
      type,
      items: items.map(([envelope, keys]) => [envelope, [...keys.entries()]] as const),
    });
    return r.verdicts;
  }

  /**
   * Signed ProofGraph nodes, each checked alone on a worker: `checkGraphItem` of @helm/proofgraph
   * with a key lookup that answers by key id from `keys`, whatever the role and Lamport. Per item
   * (index-aligned) the checked node's hash, Lamport, parents, key id and kind, or its failure. A
   * success stands for the caller's own check only once it has authorized the key: its lookup for
   * (keyid, node role of kind, lamport) must give exactly `keys.get(keyid)`.
   */
  async verifyNodes(
    items: readonly (readonly [envelope: unknown, payload?: { readonly value: unknown }])[],
    keys: ReadonlyMap<string, Uint8Array>,
  ): Promise<{
    readonly nodes: (NodeVerdict | null)[];
    /** Per failed item: its index, checkGraphItem's code and message. */
    readonly failures: readonly (readonly [index: number, code: string, message: string])[];
  }> {
    const payloads: [number, unknown][] = [];
    items.forEach(([, payload], i) => {
      if (payload !== undefined) payloads.push([i, payload.value]);
    });
    const r = await this.#run({
      kind: 'nodes',
      count: items.length,
      ...packSlice(items.map(([envelope]) => envelope)),
      payloads,
      keys: [...keys.entries()],
    });
    return { nodes: r.nodes, failures: r.failures };
  }

  /**
   * Phase 1 only, for one slice: signatures and per-receipt rules under `keys`, exactly
   * verifyReceiptSignatures(slice, keys, offset) run on a worker. Lets a caller that reads receipts
   * one at a time (a streaming pack verifier) keep only small slices in flight and link the
   * summaries itself.
   */
  async verifySignatures(
    slice: readonly unknown[],
    keys: ReadonlyMap<string, Uint8Array>,
    offset: number,
  ): Promise<{ readonly summaries: ReceiptSummary[]; readonly failure?: ReceiptFailure }> {
    const r = await this.#run({
      count: slice.length,
      ...packSlice(slice),
      offset,
      keys: [...keys.entries()],
    });
    return r.failure ? { summaries: r.summaries, failure: r.failure } : { summaries: r.summaries };
  }

  /** Verify a receipt chain (or a slice continuing from `from`); same result as verifyReceiptChain. */
  async verifyChain(
    receipts: readonly unknown[],
    options: ParallelVerifyOptions,
  ): Promise<ChainVerifyResult> {
    const sliceSize = Math.max(1, options.sliceSize ?? 256);
    const keys = [...options.keys.entries()];
    const tasks: Promise<VerifyTaskResult>[] = [];
    for (let offset = 0; offset < receipts.length; offset += sliceSize) {
      const slice = receipts.slice(offset, offset + sliceSize);
      tasks.push(this.#run({ count: slice.length, ...packSlice(slice), offset, keys }));
    }
    const results = await Promise.all(tasks);
    const summaries: ReceiptSummary[] = [];
    let failure: ReceiptFailure | undefined;
    for (const r of results) {
      summaries.push(...r.summaries);
      if (r.failure) {
        failure = r.failure;
        break;
      }
    }
    options.onSummaries?.(summaries);
    if (options.authorize) {
      for (let i = 0; i < summaries.length && (!failure || i < failure.index); i++) {
        const s = summaries[i] as ReceiptSummary;
        if (!options.authorize(s.keyid, RECEIPT_SIGNER_ROLE, s.trust_seq)) {
          failure = {
            code: 'KEY_UNKNOWN',
            index: i,
            message: `key ${s.keyid} not authorized at trust seq ${s.trust_seq}`,
          };
          break;
        }
      }
    }
    return linkReceipts(summaries, options, failure);
  }

  /** Terminate the workers. Pending and later calls reject with POOL_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0))
      job.pending.reject(new ParallelVerifyError('POOL_CLOSED', 'closed'));
    for (const p of this.#inflight.values()) p.reject(new ParallelVerifyError('POOL_CLOSED', 'closed'));
    this.#inflight.clear();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** One-shot convenience: a pool for one chain, closed afterwards. */
export async function verifyReceiptChainParallel(
  receipts: readonly unknown[],
  options: ParallelVerifyOptions & ReceiptVerifyPoolOptions,
): Promise<ChainVerifyResult> {
  const pool = new ReceiptVerifyPool(options.size === undefined ? {} : { size: options.size });
  try {
    return await pool.verifyChain(receipts, options);
  } finally {
    await pool.close();
  }
}
