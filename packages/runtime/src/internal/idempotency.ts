// The runtime's idempotency store (docs/spec/pipeline.md §Idempotency window and scope): which
// calls are deduplicated, and for how long. The executor computes a key for every call and asks
// this store for an earlier result; the runtime answers only for a call that carries the caller's
// own idempotency key, and only while the stored result is inside its class's window:
//
//   - no `idempotency_key` in the request → never deduplicated: the call is governed and executed
//     again (a repeated HTTP call is sent again), and nothing is stored;
//   - an explicit key → the SUCCEEDED result is stored with the call's transaction, and a repeat
//     replays it (IDEMPOTENT_REPLAY) while `now < issued_at_ms(original receipt) + window`; from
//     then on the key is free: the repeat executes again under an ordinary ALLOW receipt, and its
//     record replaces the expired one (a compare-and-swap on the stored receipt id).
//
// `now` is the call's single clock reading, the window the receipt policy's of the tool's effect
// class, so re-execution with the recorded clock readings decides exactly as the original did.
import { fromBase64Url } from '@helm/crypto';
import type { IdempotencyRecord, IdempotencyStore } from '@helm/executor';
import type { IdempotencyEntry, Json, RuntimeStore, SqliteStore } from '@helm/store';
import { parseJson } from './json.js';
import { type CallUnit, currentUnit } from './unit.js';

/** `issued_at_ms` of a stored record's receipt, or undefined when it cannot be read. */
function issuedAt(record: IdempotencyRecord): number | undefined {
  try {
    const bytes = fromBase64Url(record.receipt.payload);
    if (!bytes) return undefined;
    const at = (parseJson(bytes, 'a stored receipt') as { issued_at_ms?: unknown }).issued_at_ms;
    return Number.isSafeInteger(at) ? (at as number) : undefined;
  } catch {
    return undefined;
  }
}

/** The receipt id a record was minted with (the compare-and-swap value of its replacement). */
function receiptIdOf(record: IdempotencyRecord): string | undefined {
  try {
    const bytes = fromBase64Url(record.receipt.payload);
    const id = bytes
      ? (parseJson(bytes, 'a stored receipt') as { receipt_id?: unknown }).receipt_id
      : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records are read from the store and written inside the call's transaction (`take`). A record
 * whose receipt cannot be read is never treated as expired: the executor then checks it and
 * refuses it (IDEMPOTENCY_RECORD_INVALID) — fail closed.
 *
 * Per-call state lives in the call's unit of work (unit.ts), so calls in flight never see each
 * other's scope. A record a call stored but whose transaction has not committed yet is kept in
 * `#inFlight` until it has: a repeat of the key (the executor runs it only after the first call
 * ended, step 4) replays it instead of executing again, and its receipt is committed after the
 * first's (Lamport order), so nothing is released that a committed record does not back.
 */
export class StoreIdempotency implements IdempotencyStore {
  readonly #inFlight = new Map<string, IdempotencyRecord>();

  constructor(
    /** The async store port; the embedded store also answers `peek` synchronously. */
    private readonly store: RuntimeStore & Partial<Pick<SqliteStore, 'idempotencyEntrySync'>>,
  ) {}

  /**
   * `get`, answered in the current synchronous step: the runtime releases an idempotent repeat's
   * reservation in the same step as its decision (runtime.ts #releaseRepeat), before any other
   * call is decided. From memory (in flight), else from a store with synchronous reads; a store
   * without them answers only what is in flight (the repeat's reservation is then released by the
   * executor when it replays — later, never twice; the ledger is still never overspent).
   */
  peek(key: string): IdempotencyRecord | undefined {
    const unit = currentUnit();
    if (unit?.explicitKey !== true) return undefined;
    if (unit.pendingIdempotency?.key === key) return unit.pendingIdempotency;
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return this.#live(unit, inFlight, receiptIdOf(inFlight));
    const entry = unit.readAhead?.key === key ? unit.readAhead.entry : this.store.idempotencyEntrySync?.(key);
    return entry === undefined
      ? undefined
      : this.#live(unit, entry.value as unknown as IdempotencyRecord, entry.receiptId);
  }

  /**
   * Async store: read the record of the key the call's decision will name (`peek` answers from
   * it in the decision's synchronous step). A guess that misses is harmless: `peek` then answers
   * from memory only, as before.
   */
  async readAhead(unit: CallUnit, key: string): Promise<void> {
    const entry = await this.store.idempotencyEntry(key);
    unit.readAhead = {
      key,
      entry: entry === undefined ? undefined : { receiptId: entry.receiptId, value: entry.value },
    };
  }

  /**
   * The record of `key` the call may replay. In flight: answered from memory at once. Otherwise
   * read from the store (async store port); the executor serializes calls of one key, so no
   * record of this key starts or settles while the read is outstanding.
   */
  get(key: string): IdempotencyRecord | undefined | Promise<IdempotencyRecord | undefined> {
    const unit = currentUnit();
    if (unit?.explicitKey !== true) return undefined;
    if (unit.pendingIdempotency?.key === key) return unit.pendingIdempotency;
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return this.#live(unit, inFlight, receiptIdOf(inFlight));
    return this.store
      .idempotencyEntry(key)
      .then((entry: IdempotencyEntry | undefined) =>
        entry === undefined
          ? undefined
          : this.#live(unit, entry.value as unknown as IdempotencyRecord, entry.receiptId),
      );
  }

  /** The record while inside its window; past it, undefined (and the unit supersedes it). */
  #live(
    unit: CallUnit,
    record: IdempotencyRecord,
    receiptId: string | undefined,
  ): IdempotencyRecord | undefined {
    const at = issuedAt(record);
    if (at !== undefined && receiptId !== undefined && unit.clockMs >= at + unit.windowMs) {
      unit.supersedes = receiptId;
      return undefined;
    }
    return record;
  }

  async put(record: IdempotencyRecord): Promise<void> {
    const unit = currentUnit();
    if (unit?.explicitKey !== true) return;
    if ((await this.get(record.key)) === undefined) {
      unit.pendingIdempotency = record;
      this.#inFlight.set(record.key, record);
    }
  }

  /** The record to write with the unit's transaction (and the record it replaces). */
  take(unit: CallUnit): { key: string; value: Json; supersedes?: string } | undefined {
    const pending = unit.pendingIdempotency;
    if (pending === undefined) return undefined;
    return {
      key: pending.key,
      value: pending as unknown as Json,
      ...(unit.supersedes === undefined ? {} : { supersedes: unit.supersedes }),
    };
  }

  /** The unit's transaction committed or failed: its record is read from the store from now on. */
  settled(unit: CallUnit): void {
    const pending = unit.pendingIdempotency;
    if (pending && this.#inFlight.get(pending.key) === pending) this.#inFlight.delete(pending.key);
  }

  /** Records stored by calls whose transaction has not committed yet (bounded by calls in flight). */
  get inFlight(): number {
    return this.#inFlight.size;
  }
}
