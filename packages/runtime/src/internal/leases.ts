// A runtime node's leases on a shared store (docs/spec/multi-node.md §3.1): the node renews the
// lease of every admission (and reservation) it owns every `leaseMs / 3`, and takes over the
// admissions of nodes whose lease expired (presumed dead) for its own recovery to receipt them
// EXECUTION_INTERRUPTED on its own chain. Fail closed: while a renewal fails the node admits
// nothing (a call fails with the renewal's store error before its driver runs), since its open
// admissions may be taken over; it admits again after a renewal succeeds (new admissions carry
// fresh leases). The lease is a liveness promise, not a fence: see the spec's fencing caveat.
import type { AdmissionLeases, LeasedAdmission } from '@helm/store';
import { StoreError } from '@helm/store';

export interface LeaseKeeperOptions {
  readonly leases: AdmissionLeases;
  /** Lease length on the database's clock (the store's default when undefined). */
  readonly leaseMs: number;
  /** Receipt what was taken over (the runtime's recovery); the next take-over waits for it, renewals do not. */
  readonly recover: (taken: readonly LeasedAdmission[]) => Promise<void>;
  /**
   * The admissions this node wrote and has not closed (the runtime's journal). A renewal that
   * renews fewer rows than the admissions held throughout it means one was taken over while this
   * node lives (its lease lapsed: a pause, a partition): admission closes (STORE_LEASE_LOST), as a
   * lost chain lock closes it, until renewals cover every admission held again.
   */
  readonly held?: () => ReadonlySet<string>;
  /** Run first in every pass (the runtime re-takes a chain lock it lost); a throw is kept, as a renewal's. */
  readonly beforePass?: () => Promise<void>;
}

export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  #failing: StoreError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #renewal: Promise<boolean> = Promise.resolve(true);
  #recovery: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    if (!Number.isSafeInteger(options.leaseMs) || options.leaseMs < 3)
      throw new StoreError('STORE_INVALID_RECORD', 'leaseMs must be an integer of at least 3 ms');
    this.#o = options;
  }

  /** The renewal failure that closes admission, if the last renewal failed. */
  get failing(): StoreError | undefined {
    return this.#failing;
  }

  /** Before an admission: refuse while this node cannot renew its leases. */
  check(): void {
    if (this.#failing)
      throw new StoreError(
        this.#failing.code,
        `this node cannot renew its admission leases (${this.#failing.message}): nothing is admitted until it can`,
        { cause: this.#failing },
      );
  }

  /**
   * One pass: renew this node's leases, then take over and recover expired ones. Renewal runs on
   * its own queue, never behind a recovery: receipting many taken-over admissions (or a slow
   * database) can outlast the lease, and a renewal waiting behind it would let this live node's
   * own admissions expire and be taken over while their drivers run. While a recovery runs, a
   * pass renews only (the next take-over waits for that recovery to end).
   */
  tick(): Promise<void> {
    const renewal = this.#renewal.catch(() => undefined).then(() => this.#renew());
    this.#renewal = renewal;
    return renewal.then((ok) => (ok ? this.#takeOver() : undefined));
  }

  async #renew(): Promise<boolean> {
    try {
      await this.#o.beforePass?.();
      const before = new Set(this.#o.held?.() ?? []);
      const renewed = await this.#o.leases.renewLeases(this.#o.leaseMs);
      const after = this.#o.held?.() ?? new Set<string>();
      // Held throughout the renewal: written before it began, not closed before it ended — the
      // renewal's UPDATE must have found each of them under this node's id.
      let throughout = 0;
      for (const id of before) if (after.has(id)) throughout++;
      if (renewed < throughout)
        throw new StoreError(
          'STORE_LEASE_LOST',
          `the lease renewal renewed ${renewed} admission(s) of the ${throughout} this node holds: one was taken over while this node runs`,
        );
      this.#failing = undefined;
      return true;
    } catch (error) {
      this.#failing =
        error instanceof StoreError
          ? error
          : new StoreError('STORE_UNAVAILABLE', String(error), { cause: error });
      return false;
    }
  }

  /** Take over what expired and recover it; one at a time (a pass during a recovery joins it). */
  #takeOver(): Promise<void> {
    if (this.#recovery) return this.#recovery;
    const run = (async () => {
      const taken = await this.#o.leases.takeOverExpired(this.#o.leaseMs);
      if (taken.length > 0) await this.#o.recover(taken);
    })();
    const settled = run.finally(() => {
      if (this.#recovery === settled) this.#recovery = undefined;
    });
    this.#recovery = settled;
    return settled;
  }

  /** Run a pass every `leaseMs / 3` until `stop` (a pass's failure is kept, never thrown). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => {
        void this.tick().catch(() => undefined);
      },
      Math.floor(this.#o.leaseMs / 3),
    );
    this.#timer.unref();
  }

  /** Stop the passes and wait for the one running. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewal.catch(() => undefined);
    await this.#recovery?.catch(() => undefined);
  }
}
