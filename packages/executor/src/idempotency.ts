// Idempotency (normative: docs/spec/pipeline.md §Idempotency). Every call has a key, computed from
// the verified ALLOW decision (the principal the guardian authenticated, its tenant and session):
//   derived:      digest(JCS({type:"helm.idempotency.v1", principal, tenant, tool, args_hash, session}))
//   client-given: digest(JCS({type:"helm.idempotency.v1", principal, tenant, session, client_key}))
// (`session` / `tenant` are null when absent). Only a SUCCEEDED call is stored. A repeat is looked
// up only after the guardian allowed it; with the same (tool, args_hash) it releases the stored
// output under its own IDEMPOTENT_REPLAY receipt without running the driver, with different ones it
// is IDEMPOTENCY_CONFLICT.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { JsonValue } from '@helm/contracts/wire';
import { canonicalDigest } from '@helm/crypto/digests';

export const IDEMPOTENCY_KEY_TYPE = 'helm.idempotency.v1';

export function deriveIdempotencyKey(input: {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly args_hash: string;
  readonly session: string | null;
}): string {
  return canonicalDigest({
    type: IDEMPOTENCY_KEY_TYPE,
    principal: input.principal,
    tenant: input.tenant,
    tool: input.tool,
    args_hash: input.args_hash,
    session: input.session,
  });
}

export function clientIdempotencyKey(input: {
  readonly principal: string;
  readonly tenant: string | null;
  readonly session: string | null;
  readonly client_key: string;
}): string {
  return canonicalDigest({
    type: IDEMPOTENCY_KEY_TYPE,
    principal: input.principal,
    tenant: input.tenant,
    session: input.session,
    client_key: input.client_key,
  });
}

/** What is stored for a successful call. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly tool: string;
  readonly args_hash: string;
  /** The signed receipt of the original execution. */
  readonly receipt: SignedEnvelope;
  readonly receipt_hash: string;
  readonly decision_id: string;
  /** The released output of the original execution. */
  readonly output: JsonValue;
  /** The original decision envelope. */
  readonly decision: SignedEnvelope | null;
}

/** Storage port (in-memory here; persistent implementations live outside the TCB). */
export interface IdempotencyStore {
  get(key: string): IdempotencyRecord | undefined | Promise<IdempotencyRecord | undefined>;
  /** Store the record; must not overwrite an existing record for the key (first writer wins). */
  put(record: IdempotencyRecord): void | Promise<void>;
}

export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, IdempotencyRecord>();

  get(key: string): IdempotencyRecord | undefined {
    return this.#records.get(key);
  }

  put(record: IdempotencyRecord): void {
    if (!this.#records.has(record.key)) this.#records.set(record.key, record);
  }

  get size(): number {
    return this.#records.size;
  }
}
