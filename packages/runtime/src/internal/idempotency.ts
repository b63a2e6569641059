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

/** What the store needs to know about the call being executed. */
export interface IdempotencyCall {
  /** The request carries the caller's own `idempotency_key`. */
  readonly explicitKey: boolean;
  /** The call's clock reading (ms). */
  readonly now: number;
  /** The idempotency window of the tool's effect class (ms). */
  readonly windowMs: number;
}

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

/**
 * Records are read from the store and written inside the call's transaction (`take`). A record
 * whose receipt cannot be read is never treated as expired: the executor then checks it and
 * refuses it (IDEMPOTENCY_RECORD_INVALID) — fail closed.
 */
export class StoreIdempotency implements IdempotencyStore {
  #call: IdempotencyCall | undefined;
  #pending: IdempotencyRecord | undefined;
  /** The receipt id of the expired record the pending one replaces. */
  #supersedes: string | undefined;

  constructor(private readonly store: SqliteStore) {}

  /** Start a call (every call, before the executor runs it). */
  begin(call: IdempotencyCall | undefined): void {
    this.#call = call;
    this.#pending = undefined;
    this.#supersedes = undefined;
  }

  get(key: string): IdempotencyRecord | undefined {
    const call = this.#call;
    if (call?.explicitKey !== true) return undefined;
    if (this.#pending?.key === key) return this.#pending;
    const entry = this.store.idempotencyEntrySync(key);
    if (entry === undefined) return undefined;
    const record = entry.value as unknown as IdempotencyRecord;
    const at = issuedAt(record);
    if (at !== undefined && call.now >= at + call.windowMs) {
      this.#supersedes = entry.receiptId;
      return undefined;
    }
    return record;
  }

  put(record: IdempotencyRecord): void {
    if (this.#call?.explicitKey !== true) return;
    if (this.get(record.key) === undefined) this.#pending = record;
  }

  /** The record to write with the call's transaction (and the record it replaces), once. */
  take(): { key: string; value: Json; supersedes?: string } | undefined {
    const pending = this.#pending;
    const supersedes = this.#supersedes;
    this.#pending = undefined;
    this.#supersedes = undefined;
    if (pending === undefined) return undefined;
    return {
      key: pending.key,
      value: pending as unknown as Json,
      ...(supersedes === undefined ? {} : { supersedes }),
    };
  }
}
