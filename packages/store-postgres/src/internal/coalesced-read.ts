// One read shared by the callers that ask for it while another read of the same key is in flight
// (#18): the per-call freshness read (`PostgresStore.freshness`) of 64 calls in flight costs one
// statement per wave, not one per call. A caller never gets a reading taken before it asked: it
// joins the read that starts once the one in flight ended (never the one in flight), so every
// answer is as fresh as a read of its own would have been — only cheaper.

export class CoalescedRead<T> {
  readonly #read: (key: string) => Promise<T>;
  /** The read in flight, by key. */
  readonly #running = new Map<string, Promise<T>>();
  /** The read that starts when the one in flight ends, by key: what a caller arriving now joins. */
  readonly #next = new Map<string, Promise<T>>();
  /** Reads started (for tests and benchmarks). */
  reads = 0;

  constructor(read: (key: string) => Promise<T>) {
    this.#read = read;
  }

  read(key: string): Promise<T> {
    const queued = this.#next.get(key);
    if (queued) return queued;
    const running = this.#running.get(key);
    if (!running) return this.#start(key);
    const next = running.then(
      () => this.#startQueued(key),
      () => this.#startQueued(key),
    );
    this.#next.set(key, next);
    return next;
  }

  #startQueued(key: string): Promise<T> {
    this.#next.delete(key);
    return this.#start(key);
  }

  #start(key: string): Promise<T> {
    this.reads += 1;
    const p: Promise<T> = this.#read(key).finally(() => {
      if (this.#running.get(key) === p) this.#running.delete(key);
    });
    this.#running.set(key, p);
    // A failed read rejects its callers; nobody else waits on it unhandled.
    p.catch(() => undefined);
    return p;
  }
}
