// What GovernedRuntime.close() waits for: calls, governance ingests and tool loads begun and not yet
// ended. Once close() began nothing new starts (RUNTIME_CLOSED), and the release (leases, chain
// lock, store) runs only when the work begun before it has ended — a call left running would
// otherwise meet a closed store (and never settle) or commit after another process took the chain.
// A class of its own, held in one private field, rather than four more private methods and three
// fields on GovernedRuntime: with those, V8 (Node 24) failed GovernedRuntime's private-member brand
// checks under coverage ("Receiver must be class #…", docs/PERFORMANCE.md "Sixth pass").
import { RuntimeError } from '../errors.js';

export class WorkGate {
  #busy = 0;
  #idle: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  /** Count one piece of work in; refused (RUNTIME_CLOSED) once close() began. */
  enter(): void {
    if (this.#closed)
      throw new RuntimeError(
        'RUNTIME_CLOSED',
        'this runtime is closing or closed: it starts no more work',
        'open a new runtime on the data directory (GovernedRuntime.open)',
      );
    this.#busy += 1;
  }

  /** Count one piece of work out (every enter() is matched by exactly one leave()). */
  leave(): void {
    this.#busy -= 1;
    if (this.#busy === 0) this.#idle?.();
  }

  /** `work` counted in while it runs. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  /** Refuse new work, wait for the work in progress, then `release` — once: later calls share it. */
  close(release: () => Promise<void>): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#busy > 0)
        await new Promise<void>((resolve) => {
          this.#idle = resolve;
        });
      await release();
    })();
    return this.#closed;
  }
}
