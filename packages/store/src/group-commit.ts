// Group commit: calls submitted while a flush is pending are written by one storage transaction,
// so one durable sync (fsync) covers many governed calls. Each caller's promise settles only
// after the transaction holding its call has committed (acknowledged = durable), or with that
// call's own error (a failing call never takes its batch-mates down: see SqliteStore).

export interface GroupCommitOptions {
  /** Flush as soon as this many calls are queued (default 256). */
  readonly maxBatch?: number;
}

export class GroupCommitter<T, R> {
  readonly #flush: (items: readonly T[]) => readonly (R | Error)[];
  readonly #maxBatch: number;
  #queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  /** Number of flushes performed (exposed for tests and benchmarks). */
  flushes = 0;

  constructor(flush: (items: readonly T[]) => readonly (R | Error)[], options: GroupCommitOptions = {}) {
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

  /** Write everything queued now (also called on close). */
  flushNow(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.flushes += 1;
      let results: readonly (R | Error)[];
      try {
        results = this.#flush(batch.map((b) => b.item));
      } catch (error) {
        for (const b of batch) b.reject(error);
        continue;
      }
      batch.forEach((b, i) => {
        const r = results[i];
        if (r instanceof Error) b.reject(r);
        else b.resolve(r as R);
      });
    }
  }

  get pending(): number {
    return this.#queue.length;
  }
}
