export type StoreErrorCode =
  | 'STORE_CHAIN_CONFLICT'
  | 'STORE_DUPLICATE'
  | 'STORE_IDEMPOTENCY_CONFLICT'
  | 'STORE_NONCE_REUSED'
  | 'STORE_BUDGET_EXCEEDED'
  | 'STORE_INVALID_RECORD'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_UNSUPPORTED_VERSION'
  | 'STORE_RESERVATION_UNKNOWN'
  /** An approval grant recorded as consumed already (a grant is used at most once, across processes). */
  | 'STORE_GRANT_CONSUMED'
  /** A governance event that does not extend the log head it was built on. */
  | 'STORE_GOVERNANCE_CONFLICT'
  | 'STORE_CLOSED'
  | 'STORE_IO'
  // Networked engines (PostgreSQL): the database cannot be reached or the connection broke; a
  // lock or statement ran past its timeout; a transaction lost a serialization/deadlock race
  // after its retries; an admission was taken over by another node after its lease expired.
  | 'STORE_UNAVAILABLE'
  | 'STORE_TIMEOUT'
  | 'STORE_CONFLICT'
  | 'STORE_LEASE_LOST'
  /** The database role lacks a privilege the operation needs (e.g. a serving role running DDL). */
  | 'STORE_PERMISSION_DENIED';

/** A typed storage error; match on `code`, never on the message. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
