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
import type { Json, SqliteStore } from '@helm/store';
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

  constructor(private readonly store: SqliteStore) {}

  get(key: string): IdempotencyRecord | undefined {
    const unit = currentUnit();
    if (unit?.explicitKey !== true) return undefined;
    if (unit.pendingIdempotency?.key === key) return unit.pendingIdempotency;
    const inFlight = this.#inFlight.get(key);
    let record: IdempotencyRecord;
    let receiptId: string | undefined;
    if (inFlight) {
      record = inFlight;
      receiptId = receiptIdOf(inFlight);
    } else {
      const entry = this.store.idempotencyEntrySync(key);
      if (entry === undefined) return undefined;
      record = entry.value as unknown as IdempotencyRecord;
      receiptId = entry.receiptId;
    }
    const at = issuedAt(record);
    if (at !== undefined && receiptId !== undefined && unit.clockMs >= at + unit.windowMs) {
      unit.supersedes = receiptId;
      return undefined;
    }
    return record;
  }

  put(record: IdempotencyRecord): void {
    const unit = currentUnit();
    if (unit?.explicitKey !== true) return;
    if (this.get(record.key) === undefined) {
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
