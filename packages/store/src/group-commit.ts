// Group commit: calls submitted while a flush is pending are written by one storage transaction,
// so one durable sync (fsync) covers many governed calls. Each caller's promise settles only
// after the transaction holding its call has committed (acknowledged = durable), or with that
// call's own error (a failing call never takes its batch-mates down: see SqliteStore).
//
// The flush may be synchronous (the embedded store: the batch is written in the turn that flushes
// it) or asynchronous (a networked store behind the async store port). An asynchronous flush runs
// one at a time: items submitted while it is in flight form the next batch, written only after it
// settled, so batches reach the store in submission order — a chain's receipts are submitted in
// Lamport order and must be written in that order (a store refuses a receipt that does not extend
// its head).

export interface GroupCommitOptions {
  /** Flush as soon as this many calls are queued (default 256). */
  readonly maxBatch?: number;
}

export class GroupCommitter<T, R> {
  readonly #flush: (items: readonly T[]) => readonly (R | Error)[] | Promise<readonly (R | Error)[]>;
  readonly #maxBatch: number;
  #queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  /** The asynchronous flush in flight, if any (the next batch waits for it). */
  #inFlight: Promise<void> | undefined;
  /** Number of flushes performed (exposed for tests and benchmarks). */
  flushes = 0;

  constructor(
    flush: (items: readonly T[]) => readonly (R | Error)[] | Promise<readonly (R | Error)[]>,
    options: GroupCommitOptions = {},
  ) {
    this.#flush = flush;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.flushNow();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flushNow());
      }
    });
  }

  /**
   * Write everything queued now (also called on close). With an asynchronous flush in flight,
   * what is queued is written when it settled (`idle()` resolves once everything was).
   */
  flushNow(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0 && this.#inFlight === undefined) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.flushes += 1;
      let results: readonly (R | Error)[] | Promise<readonly (R | Error)[]>;
      try {
        results = this.#flush(batch.map((b) => b.item));
      } catch (error) {
        for (const b of batch) b.reject(error);
        continue;
      }
      if (isPromise(results)) {
        this.#inFlight = results.then(
          (r) => settle(batch, r),
          (error: unknown) => {
            for (const b of batch) b.reject(error);
          },
        );
        void this.#inFlight.then(() => {
          this.#inFlight = undefined;
          this.flushNow();
        });
        return;
      }
      settle(batch, results);
    }
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  async idle(): Promise<void> {
    this.flushNow();
    while (this.#inFlight !== undefined || this.#queue.length > 0) {
      if (this.#inFlight) await this.#inFlight;
      // let the continuation that clears #inFlight and starts the next batch run
      await Promise.resolve();
      this.flushNow();
    }
  }

  get pending(): number {
    return this.#queue.length;
  }
}

function isPromise<V>(v: V | Promise<V>): v is Promise<V> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function settle<R>(
  batch: readonly { resolve: (r: R) => void; reject: (e: unknown) => void }[],
  results: readonly (R | Error)[],
): void {
  batch.forEach((b, i) => {
    const r = results[i];
    if (r instanceof Error) b.reject(r);
    else b.resolve(r as R);
  });
}
