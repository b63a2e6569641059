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
  | 'STORE_IO';

/** A typed storage error; match on `code`, never on the message. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
