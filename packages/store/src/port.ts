// The store port: what a governed runtime needs from durable storage, independent of the engine.
// `SqliteStore` (embedded, one runtime per data directory) and `PostgresStore` from
// `@helm/store-postgres` (several runtime nodes on one database) implement it with the same
// observable behaviour; `packages/store/test/contract.ts` is the executable form of this contract
// and runs against both.
//
// Everything is async so a networked engine fits. Every method either does all of its work in
// one storage transaction or none of it, and rejects with a `StoreError` whose `code` is stable
// (an unreachable database is `STORE_UNAVAILABLE`, a lock or statement past its timeout
// `STORE_TIMEOUT`: the caller fails closed and no effect runs — docs/threat-model.md "No store,
// no effect").
import type { SignedEnvelope } from '@helm/contracts';
import type {
  AdmissionRecord,
  GovernanceApplication,
  GovernanceEventRow,
  HelmStore,
  Json,
  LedgerOp,
  StoredAdmission,
  StoredGovernanceApplication,
  StoredGovernanceChallenge,
  StoredGovernanceGrant,
  StoredReceipt,
  StoredRequest,
} from './types.js';

/** One account a reservation charges, with the ceiling `spent + reserved` may not exceed. */
export interface LedgerCharge {
  readonly account: string;
  readonly ceiling: number;
}

export interface LedgerAccountState {
  readonly spent: number;
  readonly reserved: number;
}

/** An open (neither committed nor refunded) reservation. */
export interface LedgerReservation {
  readonly accounts: readonly string[];
  readonly amount: number;
}

/**
 * One consistent read of the ledger (`ledgerSnapshot`): the named accounts and the open
 * reservations this handle's node holds, as of one instant. A decision-side ledger view built on
 * an async store rebuilds its base from it and tells which of its own movements the base already
 * contains: an own reservation listed is written and not yet settled; one not listed is either not
 * written yet or already settled.
 */
export interface LedgerSnapshot {
  /** The named accounts that exist, by account name (byte order); absent accounts are zeros. */
  readonly accounts: readonly LedgerAccount[];
  /** Open reservations held by this handle's node (on an embedded store: all), by id. */
  readonly reservations: readonly (LedgerReservation & { readonly id: string })[];
}

/**
 * The async store surface a governed runtime is written against: the governed-call transaction
 * (`admitCall` before the driver runs, `commitCall` with the receipt), the reads an export and a
 * restart need, and the shared state a decision consults (budget ledger, idempotency, nonces).
 *
 * Concurrency guarantees (several handles — connections, processes, nodes — on one database):
 * - a receipt chain never forks and has no gaps: of two commits of the same Lamport on one chain,
 *   exactly one succeeds and the other fails `STORE_CHAIN_CONFLICT` writing nothing;
 * - the ledger never overspends: `spent + reserved <= ceiling` holds on every account after every
 *   transaction, however many reservations race;
 * - a nonce is consumed once (`consumeNonce` is true for exactly one caller; a call carrying a
 *   used nonce fails `STORE_NONCE_REUSED`);
 * - an idempotency key keeps its first record (first writer wins).
 */
/** A ledger account as listed by `ledgerAccounts`. */
export interface LedgerAccount extends LedgerAccountState {
  readonly account: string;
}

/** A stored idempotency record with the receipt it was stored with (for `supersedes`). */
export interface IdempotencyEntry {
  readonly key: string;
  readonly receiptId: string;
  readonly value: Json;
}

/**
 * The governance log (docs/spec/governance-event.md) and what its application writes, plus the
 * ledger administration it needs. Cluster-wide guarantees (several handles on one database):
 * - the log never forks: appends are serialized, each extends the head it was built on
 *   (`STORE_GOVERNANCE_CONFLICT` otherwise) and an event is in the log once (`STORE_DUPLICATE`);
 * - an event is applied once: of two `applyGovernanceEvent` (or `commitCall({governance})`) of one
 *   seq, exactly one succeeds and the other fails `STORE_DUPLICATE` writing nothing;
 * - an approval grant is consumed once: of two admissions carrying one grant, exactly one is
 *   recorded and the other fails `STORE_GRANT_CONSUMED` writing nothing.
 */
/**
 * What a runtime reads of the governance log when it opens (`GovernanceStore.governanceView`), as
 * of ONE instant: the log, the application records and the cursor, the approval challenges and the
 * consumed grants. An application (its record, cursor and writes) is in it entirely or not at all.
 */
export interface GovernanceView {
  readonly events: readonly GovernanceEventRow[];
  readonly applied: readonly StoredGovernanceApplication[];
  readonly cursor: SignedEnvelope | undefined;
  /** Challenges as `governanceChallenges(chainId)` lists them. */
  readonly challenges: readonly StoredGovernanceChallenge[];
  readonly grants: readonly StoredGovernanceGrant[];
}

export interface GovernanceStore {
  governanceHead(): Promise<{ seq: number; chain: string } | undefined>;
  /**
   * `GovernanceView` in one consistent read (one snapshot): another handle applying an event
   * meanwhile is seen whole or not at all, never its record without its cursor.
   */
  governanceView(chainId?: string): Promise<GovernanceView>;
  /**
   * Append one event: `make` is called inside the (serialized) transaction with the current head
   * and returns the row to append, which must be the next one (seq = head + 1, prev = head's link).
   */
  appendGovernanceEvent(
    make: (head: { readonly seq: number; readonly chain: string } | undefined) => GovernanceEventRow,
  ): Promise<GovernanceEventRow>;
  /** Events from `fromSeq` on (default: all), in log order. */
  governanceEvents(fromSeq?: number): Promise<readonly GovernanceEventRow[]>;
  /** Events about `subject` (e.g. one challenge), in log order. */
  governanceEventsAbout(subject: string): Promise<readonly GovernanceEventRow[]>;
  governanceEventSeq(eventDigest: string): Promise<number | undefined>;
  governanceEvent(seq: number): Promise<GovernanceEventRow | undefined>;
  /** Record one application (record, cursor, its ledger movements) in one transaction. */
  applyGovernanceEvent(application: GovernanceApplication): Promise<void>;
  /** Application records in log order, from position `fromSeq` (default 1). */
  governanceApplied(fromSeq?: number): Promise<readonly StoredGovernanceApplication[]>;
  governanceCursor(): Promise<SignedEnvelope | undefined>;
  /** Stored approval challenges, oldest first (created_at_ms, id); optionally of one chain. */
  governanceChallenges(chainId?: string): Promise<readonly StoredGovernanceChallenge[]>;
  governanceChallenge(id: string): Promise<StoredGovernanceChallenge | undefined>;
  /** Consumed approval grants, by challenge id. */
  governanceGrants(): Promise<readonly StoredGovernanceGrant[]>;
  governanceGrant(challengeId: string): Promise<StoredGovernanceGrant | undefined>;
  /** Apply ledger movements (e.g. administrative resets) in one transaction. */
  ledgerApply(ops: readonly LedgerOp[]): Promise<void>;
  /** Every ledger account, by account name (byte order). */
  ledgerAccounts(): Promise<readonly LedgerAccount[]>;
  /** The stored idempotency record of `key` with its receipt id, or undefined. */
  idempotencyEntry(key: string): Promise<IdempotencyEntry | undefined>;
}

/**
 * One admission of a batch (`admitCalls`). Its ledger movements are taken by calling `ledger` when
 * the store writes it, not before: a caller that queues movements in memory (a deferred ledger)
 * keeps seeing them queued until the store has them.
 */
export interface AdmissionBatchItem {
  readonly admission: AdmissionRecord;
  readonly ledger?: () => readonly LedgerOp[];
}

export interface RuntimeStore extends HelmStore, GovernanceStore {
  /**
   * Durably record the admissions of calls in flight in ONE transaction, each its own savepoint:
   * a failing admission (duplicate id, consumed grant, overspent ledger, …) is rolled back alone
   * and reported in its slot; the others commit together. A failure of the transaction itself
   * rejects (no admission was recorded). A call's driver runs only after its slot resolved `true`.
   */
  admitCalls(items: readonly AdmissionBatchItem[]): Promise<readonly (true | Error)[]>;
  /**
   * Reserve `amount` on every account or on none (all-or-nothing); `null` when any account would
   * exceed its ceiling. The id is `budget-res-<n>`, unique in the database.
   */
  ledgerReserve(charges: readonly LedgerCharge[], amount: number): Promise<string | null>;
  /** Spend an open reservation; `STORE_RESERVATION_UNKNOWN` if it is not open (settled once). */
  ledgerCommit(id: string): Promise<void>;
  /** Release an open reservation; `STORE_RESERVATION_UNKNOWN` if it is not open. */
  ledgerRefund(id: string): Promise<void>;
  /** An account's state (zeros for an account never charged). */
  ledgerState(account: string): Promise<LedgerAccountState>;
  /** An open reservation, or undefined. */
  ledgerReservation(id: string): Promise<LedgerReservation | undefined>;
  /** The named accounts and this node's open reservations, read at one instant (`LedgerSnapshot`). */
  ledgerSnapshot(accounts: readonly string[]): Promise<LedgerSnapshot>;
  /**
   * Start-up of a runtime: refund the open reservations of this runtime that no open admission
   * holds (their call never reached its driver). Returns the refunded ids, ascending.
   */
  releaseOrphanReservations(): Promise<readonly string[]>;
  /** Record an idempotency result outside a call; false (nothing written) if the key exists. */
  putIdempotency(key: string, receiptId: string, value: Json): Promise<boolean>;
  /**
   * One receipt by its exact id (any chain), with the request committed under the receipt's id
   * when there is one; undefined for an unknown id. An indexed lookup (the receipt id is unique),
   * never a scan of a chain, so `GET /v1/calls/{id}` costs the same at any chain length.
   */
  receiptById(receiptId: string): Promise<ReceiptLookup | undefined>;
}

/** A receipt found by id, and the request the runtime committed under the same id (if any). */
export interface ReceiptLookup {
  readonly receipt: StoredReceipt;
  readonly request?: StoredRequest;
}

/** An open admission with its owner and lease (multi-node stores). */
export interface LeasedAdmission extends StoredAdmission {
  /** The runtime node that admitted the call (or took it over). */
  readonly nodeId: string;
  /** When the owner's lease ends, in milliseconds since the epoch of the database's clock. */
  readonly leaseUntil: number;
}

/**
 * Admission ownership for stores that several runtime nodes share. Each admission (and each
 * reservation not yet held by one) belongs to the node that wrote it under a lease measured on
 * the database's clock; the owner renews its leases while it lives, and another node may take
 * over an admission only after its lease has expired — never while the owner renews. A node that
 * lost an admission cannot close it any more (`STORE_LEASE_LOST`), so one admission never gets two
 * receipts.
 */
export interface AdmissionLeases {
  /** This handle's node id (stamped on what it admits). */
  readonly nodeId: string;
  /** Extend the lease of every admission and reservation this node owns; returns the admissions renewed. */
  renewLeases(leaseMs?: number): Promise<number>;
  /**
   * Take over every admission whose lease has expired (their owner is presumed dead): they become
   * this node's, under a fresh lease, for it to receipt `EXECUTION_INTERRUPTED`. Reservations of
   * expired owners that no admission holds are refunded (their call never reached a driver).
   * Concurrent takers never take the same admission twice.
   */
  takeOverExpired(leaseMs?: number): Promise<readonly LeasedAdmission[]>;
  /** Open admissions with owner and lease, in admission order; optionally of one chain. */
  leasedAdmissions(chainId?: string): Promise<readonly LeasedAdmission[]>;
}
