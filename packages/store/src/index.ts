export { StoreError, type StoreErrorCode } from './errors.js';
export { type GroupCommitOptions, GroupCommitter } from './group-commit.js';
export { MIGRATIONS, type Migration, SCHEMA_VERSION } from './internal/migrations.js';
export type {
  AdmissionBatchItem,
  AdmissionLeases,
  GovernanceStore,
  IdempotencyEntry,
  LeasedAdmission,
  LedgerAccount,
  LedgerAccountState,
  LedgerCharge,
  LedgerReservation,
  LedgerSnapshot,
  ReceiptLookup,
  RuntimeStore,
} from './port.js';
export {
  budgetLedgerPort,
  type DeferredBudgetLedger,
  deferredBudgetLedger,
  idempotencyStorePort,
  type NodePortRecord,
  nodeStorePort,
  nonceStorePort,
  type ReceiptPortRecord,
  receiptStorePort,
} from './ports.js';
export { DEFAULT_CHAIN, openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export type {
  AdmissionRecord,
  Artifact,
  BudgetMovement,
  ChainHead,
  CommitResult,
  GovernanceApplication,
  GovernanceChallengeRecord,
  GovernanceEventRow,
  GovernedCallRecord,
  HelmStore,
  Json,
  LedgerOp,
  NodeRecord,
  RangeQuery,
  ReceiptRecord,
  StoredAdmission,
  StoredDecision,
  StoredGovernanceApplication,
  StoredGovernanceChallenge,
  StoredGovernanceGrant,
  StoredNode,
  StoredReceipt,
  StoredRequest,
} from './types.js';
