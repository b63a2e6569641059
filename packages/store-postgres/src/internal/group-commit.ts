// Group commit over an asynchronous transaction: calls submitted while a flush is in flight (or in
// the same turn of the event loop) are written by the next transaction, so one WAL flush on the
// server covers many governed calls. One flush at a time per store handle: a node owns its chain,
// and its calls must reach the chain in submission order. A caller's promise settles only after
// the transaction holding its call committed (acknowledged = durable), or with its own error.

export class AsyncGroupCommitter<T, R> {
  readonly #flush: (items: readonly T[]) => Promise<readonly (R | Error)[]>;
  readonly #maxBatch: number;
  #queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #running: Promise<void> | undefined;
  /** Transactions performed (for benchmarks). */
  flushes = 0;

  constructor(flush: (items: readonly T[]) => Promise<readonly (R | Error)[]>, maxBatch: number) {
    this.#flush = flush;
    this.#maxBatch = Math.max(1, maxBatch);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        this.flushes += 1;
        let results: readonly (R | Error)[];
        try {
          results = await this.#flush(batch.map((b) => b.item));
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
    } finally {
      this.#running = undefined;
    }
  }

  /** Resolves when everything submitted so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }
}
