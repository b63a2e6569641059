// Per-identity rate limit (token bucket), a serial task queue, and the in-flight request count.

/** Token bucket per identity: `rate` requests per second, bursts up to `burst`. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly now: () => number = () => Date.now(),
  ) {}

  /** Take one token; false when the identity is over its rate. */
  take(id: string): boolean {
    if (this.rate <= 0) return true;
    const t = this.now();
    const b = this.#buckets.get(id) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.#buckets.set(id, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * Runs tasks one at a time, in arrival order: the witness's state file (witness.ts) is read,
 * checked and rewritten per checkpoint. Governed calls do not use it (I-CONC-1, I-SERVE-5).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  get pending(): number {
    return this.#pending;
  }

  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#pending--,
      () => this.#pending--,
    );
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  drain(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}

/** Requests being handled: graceful shutdown waits for this to reach zero. */
export class InFlight {
  #count = 0;
  #idle: (() => void)[] = [];

  enter(): void {
    this.#count++;
  }

  leave(): void {
    this.#count--;
    if (this.#count === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  idle(): Promise<void> {
    return this.#count === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }
}
