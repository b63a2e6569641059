// The storage interface of HELM. It is deliberately database-neutral: every method is async (a
// networked PostgreSQL implementation can follow), values are JSON documents or byte strings,
// ordering is always by explicit keys (Lamport clock, ids) and never by physical row order, and
// the unit of atomicity is one governed call (`commitCall`).
import type { SignedEnvelope } from '@helm/contracts';

/** A JSON value as stored (documents are stored as their JSON text and parsed on read). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** One signed receipt as appended to a chain. */
export interface ReceiptRecord {
  /** Content-derived receipt id. */
  readonly id: string;
  /** Lamport clock of the receipt inside its chain: exactly head + 1 (the first receipt has 1). */
  readonly lamport: number;
  /** Hash link to the previous receipt of the chain (the genesis value for the first receipt). */
  readonly prevHash: string;
  /** The hash the next receipt links to (as defined by the receipt format). */
  readonly hash: string;
  /** Decision this receipt records, when any. */
  readonly decisionId?: string;
  /** Retention tier of the receipt (HIGH/MEDIUM/LOW), used by condensation and export. */
  readonly riskTier?: string;
  readonly envelope: SignedEnvelope;
}

/** A node of the ProofGraph DAG as stored. */
export interface NodeRecord {
  readonly id: string;
  /** Node kind (e.g. INTENT, ATTESTATION, EFFECT, TRUST_EVENT, CHECKPOINT). */
  readonly kind: string;
  readonly lamport: number;
  /** Parent node ids (hash links). */
  readonly parents: readonly string[];
  /** The node as its wire form (JSON), or a signed envelope. */
  readonly body: Json | SignedEnvelope;
}

/** A budget movement; `delta` is in the budget's integer unit (e.g. cents, calls). */
export interface BudgetMovement {
  readonly key: string;
  readonly delta: number;
  /** When given, the commit fails with BUDGET_EXCEEDED if the balance after the movement exceeds it. */
  readonly limit?: number;
}

/**
 * A movement of the persistent budget ledger (reserve → commit | refund), written inside the
 * transaction of the admission or the call it belongs to (see `deferredBudgetLedger`).
 */
export type LedgerOp =
  | {
      readonly op: 'reserve';
      readonly id: string;
      readonly charges: readonly { readonly account: string; readonly ceiling: number }[];
      readonly amount: number;
    }
  | { readonly op: 'commit'; readonly id: string }
  | { readonly op: 'refund'; readonly id: string }
  /**
   * An administrative reset (`budget.reset`): the account's `spent` goes back to 0; what open
   * reservations hold on it stays reserved (their calls may still be charged).
   */
  | { readonly op: 'reset'; readonly account: string };

/**
 * A write-ahead admission: a call the executor admitted (its driver may run from now on). Stored
 * before the driver runs; deleted by the transaction that stores the call's receipt.
 */
export interface AdmissionRecord {
  /** The admission id (the executor's `admission_id`). */
  readonly id: string;
  readonly chainId?: string;
  readonly sessionId: string;
  /** The budget reservation the call holds, if any (recovery resolves it). */
  readonly reservationId?: string | null;
  /** The executor's admission entry. */
  readonly body: Json;
  /**
   * The approval grant the admitted call consumes, recorded in the same transaction: a grant
   * already recorded makes the admission fail with STORE_GRANT_CONSUMED (one use, across processes).
   */
  readonly grant?: { readonly challengeId: string; readonly decisionId: string };
  /**
   * The caller's idempotency key the admitted call claims (stores several nodes share): while the
   * admission is open no other admission may claim the key, and a key whose stored result is not
   * the one this call supersedes is refused — both STORE_IDEMPOTENCY_CONFLICT, nothing written.
   * So one key runs one driver cluster-wide. A store with one runtime (the embedded one, whose
   * executor serializes a key) does not take it.
   */
  readonly idempotency?: { readonly key: string; readonly supersedes?: string };
}

export interface StoredAdmission {
  readonly id: string;
  readonly seq: number;
  readonly chainId: string;
  readonly sessionId: string;
  readonly reservationId: string | null;
  readonly body: Json;
}

/** Everything one governed call writes; committed atomically or not at all. */
export interface GovernedCallRecord {
  /** Session the call belongs to (exports select by session). */
  readonly sessionId: string;
  /** Receipt chain id (defaults to `default`). */
  readonly chainId?: string;
  /** The recorded request and its clock readings, for offline replay. */
  readonly request?: { readonly id: string; readonly body: Json };
  readonly decision?: { readonly id: string; readonly envelope: SignedEnvelope };
  readonly receipt: ReceiptRecord;
  readonly nodes?: readonly NodeRecord[];
  readonly budget?: readonly BudgetMovement[];
  /**
   * Idempotency record: a repeat of `key` returns `value` instead of executing again. A record of
   * `key` already stored makes the commit fail (STORE_IDEMPOTENCY_CONFLICT) unless `supersedes`
   * names the receipt it was stored with: then that record is replaced (a window that expired).
   */
  readonly idempotency?: { readonly key: string; readonly value: Json; readonly supersedes?: string };
  /** One-time nonces consumed by the call (delegation, approvals); reuse fails the commit. */
  readonly nonces?: readonly {
    readonly scope: string;
    readonly nonce: string;
  }[] /** Budget-ledger movements of the call (typically the commit or refund of its reservation). */;
  readonly ledger?: readonly LedgerOp[];
  /**
   * The admission this receipt closes: deleted in the same transaction (the commit fails with
   * STORE_INVALID_RECORD if it is not open, so one admission never gets two receipts).
   */
  readonly admissionId?: string;
  /** Approval challenges the call opened (stored with the receipt that escalated it). */
  readonly challenges?: readonly GovernanceChallengeRecord[];
  /** Challenges the call found expired and closed. */
  readonly closedChallenges?: readonly { readonly id: string; readonly why: string }[];
  /** A governance event applied together with this (administrative) receipt. */
  readonly governance?: GovernanceApplication;
}

/** One signed governance event as appended to the log (docs/spec/governance-event.md). */
export interface GovernanceEventRow {
  /** Position in the log: 1, 2, 3, … without gaps. */
  readonly seq: number;
  /** digest(JCS(envelope)). */
  readonly digest: string;
  /** The link of the previous event (`sha256:` + 64 zeros for the first). */
  readonly prev: string;
  /** This event's link: digest(JCS({type: helm.governance.link.v1, seq, prev, event, trust_seq})). */
  readonly chain: string;
  readonly action: string;
  /** The signer's key id. */
  readonly signer: string;
  /** What the event is about, for lookups (e.g. the challenge id of an approval). */
  readonly subject: string | null;
  /** The trust registry sequence number the signer's role was checked at when appended. */
  readonly trustSeq: number;
  readonly envelope: SignedEnvelope;
}

/** The application of one governance event by a runtime, written once. */
export interface GovernanceApplication {
  readonly seq: number;
  /** The applied event's digest. */
  readonly digest: string;
  /** The application-record chain value at `seq`. */
  readonly chain: string;
  /** The application record (outcome, clock reading, epoch, trust seq, chain position). */
  readonly record: Json;
  /** The runtime's signed cursor after this application (replaces the previous one). */
  readonly cursor: SignedEnvelope;
  /**
   * Budget-ledger movements of the action (e.g. the resets of `budget.reset`), applied in the
   * same transaction by every engine.
   */
  readonly ledger?: readonly LedgerOp[];
  /**
   * Further writes of the action, run inside the same transaction (sync store methods only: the
   * embedded SQLite store). A networked store refuses an application carrying it
   * (STORE_INVALID_RECORD) rather than run it outside the transaction; use `ledger`.
   */
  readonly apply?: () => void;
}

export interface StoredGovernanceApplication {
  readonly seq: number;
  readonly digest: string;
  readonly chain: string;
  readonly record: Json;
}

/** An approval challenge as the runtime stores it when the call it holds is receipted. */
export interface GovernanceChallengeRecord {
  readonly id: string;
  readonly chainId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** The guardian-signed challenge envelope. */
  readonly envelope: SignedEnvelope;
  /** The request that escalated (what `helm run --challenge` executes). */
  readonly request: Json;
}

export interface StoredGovernanceChallenge extends GovernanceChallengeRecord {
  /** The ESCALATED receipt that stored it. */
  readonly receiptId: string | null;
  /** Closed by the runtime's guardian (`expired`), else null. */
  readonly closed: string | null;
}

export interface StoredGovernanceGrant {
  readonly challengeId: string;
  readonly decisionId: string;
  readonly admissionId: string;
}

export interface ChainHead {
  readonly chainId: string;
  readonly lamport: number;
  readonly hash: string;
  readonly receiptId: string;
}

export interface CommitResult {
  readonly receiptId: string;
  readonly lamport: number;
}

export interface StoredReceipt extends ReceiptRecord {
  readonly chainId: string;
  readonly sessionId: string;
}

export interface StoredNode extends NodeRecord {
  readonly sessionId: string;
}

export interface StoredRequest {
  readonly id: string;
  readonly receiptId: string;
  readonly lamport: number;
  readonly chainId: string;
  readonly sessionId: string;
  readonly body: Json;
}

export interface StoredDecision {
  readonly id: string;
  readonly sessionId: string;
  readonly envelope: SignedEnvelope;
}

/** Selects receipts (and what belongs to them) by session and/or an inclusive Lamport range. */
export interface RangeQuery {
  readonly chainId?: string;
  readonly sessionId?: string;
  readonly fromLamport?: number;
  readonly toLamport?: number;
}

/** Content-addressed artifacts in force: policy bundles, tool descriptors, schemas, WASM, trust snapshots. */
export interface Artifact {
  /** `sha256:<hex>` of `bytes`; computed by the store. */
  readonly digest: string;
  /** e.g. `policy`, `tool`, `schema`, `wasm`, `trust`, `checkpoint`. */
  readonly kind: string;
  readonly name: string;
  readonly version: string;
  readonly bytes: Uint8Array;
}

export interface HelmStore {
  /** Apply pending schema migrations (idempotent). Called by `open*`. */
  migrate(): Promise<number>;
  /** Atomically commit one governed call. Rejects with StoreError and writes nothing on any conflict. */
  commitCall(record: GovernedCallRecord): Promise<CommitResult>;
  /** Atomically commit several calls in one storage transaction (group commit); per-call results. */
  commitCalls(records: readonly GovernedCallRecord[]): Promise<readonly (CommitResult | Error)[]>;
  /**
   * Durably record an admission (and the ledger movements so far, e.g. its reservation) in one
   * transaction, before the call's driver runs.
   */
  admitCall(admission: AdmissionRecord, ledger?: readonly LedgerOp[]): Promise<void>;
  /** Admissions with no receipt yet (interrupted calls after a crash), in admission order. */
  admissions(chainId?: string): Promise<readonly StoredAdmission[]>;
  chainHead(chainId?: string): Promise<ChainHead | undefined>;
  receipts(query?: RangeQuery): Promise<readonly StoredReceipt[]>;
  decisions(ids: readonly string[]): Promise<readonly StoredDecision[]>;
  nodes(query?: { readonly sessionId?: string }): Promise<readonly StoredNode[]>;
  requests(query?: RangeQuery): Promise<readonly StoredRequest[]>;
  sessions(): Promise<readonly string[]>;
  idempotency(key: string): Promise<Json | undefined>;
  budgetBalance(key: string): Promise<number>;
  nonceUsed(scope: string, nonce: string): Promise<boolean>;
  /** Consume a nonce outside a call (e.g. at delegation-session creation); false if already used. */
  consumeNonce(scope: string, nonce: string): Promise<boolean>;
  putArtifact(artifact: Omit<Artifact, 'digest'>): Promise<string>;
  artifact(digest: string): Promise<Artifact | undefined>;
  artifacts(query?: { readonly kind?: string }): Promise<readonly Artifact[]>;
  /** Link an artifact to a session as "in force" (exports include exactly the linked artifacts). */
  linkArtifact(sessionId: string, digest: string): Promise<void>;
  sessionArtifacts(sessionId: string): Promise<readonly Artifact[]>;
  /** A small key/value namespace for configuration documents (keys, trust events, settings). */
  getDocument(namespace: string, key: string): Promise<Json | undefined>;
  putDocument(namespace: string, key: string, value: Json): Promise<void>;
  /**
   * Write a document only if `key` is absent (insert-only; never replaces): true when written, false
   * when the key was already taken (e.g. a trust event at a seq another writer reached first).
   */
  insertDocument(namespace: string, key: string, value: Json): Promise<boolean>;
  listDocuments(namespace: string): Promise<readonly { readonly key: string; readonly value: Json }[]>;
  close(): Promise<void>;
}
