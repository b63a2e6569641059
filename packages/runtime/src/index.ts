// @helm/runtime — the governed runtime of a HELM data directory, composed from the TCB packages
// (guardian, executor, receipts, proofgraph, trust, runtime-sandbox) over a durable store. The CLI,
// the server and the MCP gateway are thin shells over this package.

export { RuntimeError, type RuntimeErrorCode } from './errors.js';
export { HOST_DRIVER_KINDS, type HostDrivers } from './host-drivers.js';
export {
  APPROVAL_REQUEST_TYPE,
  type ApprovalContext,
  type ApprovalRequestFile,
  approvalContext,
  approvalRequestFile,
  approvalStatement,
  type ChallengeAnswer,
  type ChallengeState,
  type ChallengeView,
  challengeView,
  challengeViewById,
  challengeViews,
  readApprovalRequest,
  signerFromKeyFile,
  storedChallenge,
  verifiedChallenge,
} from './internal/approvals.js';
export {
  type BudgetAccountView,
  type BudgetOfPolicy,
  type BudgetOverview,
  type BudgetResetBody,
  budgetOverview,
  budgetResetBody,
  isBudgetBase,
  type ParsedBudgetAccount,
  parseBudgetAccount,
  policyBudgets,
} from './internal/budget.js';
export {
  type ComponentPin,
  componentSummary,
  type StagedComponent,
  stageComponent,
  writeComponent,
} from './internal/component.js';
export {
  CONFIG_TYPE,
  DataDir,
  type HelmConfig,
  type InitOptions,
  initDataDir,
  type KeyFile,
  type LocalKey,
  resolveDataDir,
  SETUP_KEYS,
  writeKeyFile,
} from './internal/datadir.js';
export {
  type DelegateCreateInput,
  delegateCreate,
  delegateCreateAsync,
  delegateRevoke,
  delegateRevokeAsync,
  delegationList,
  grantsFrom,
  newCodeVerifier,
  parseTtl,
  presentation,
  type SessionView,
} from './internal/delegation.js';
export {
  type EgressAllowInput,
  type EgressEntry,
  type EgressView,
  egressAllow,
  egressList,
  egressRemove,
  egressRuleFrom,
  egressRuleId,
  type PendingEdit,
} from './internal/egress.js';
export {
  appendGovernanceEvent,
  appendGovernanceEventAsync,
  GOVERNANCE_ACTIONS,
  type GovernanceAction,
  type GovernanceAppliedRecord,
  type GovernanceApplyContext,
  type GovernanceEventRecord,
  type GovernanceHandler,
  type GovernanceOutcome,
  governanceAppliedLink,
  governanceEventDigest,
  governanceLink,
  importGovernanceEvent,
  importGovernanceEventAsync,
  type PendingGovernanceEvent,
  readGovernanceApplications,
  readGovernanceLog,
  registerGovernanceHandler,
  type SignGovernanceEventInput,
  signGovernanceEvent,
  verifyGovernanceEvent,
} from './internal/governance.js';
export { commitStagedAppends, governanceSnapshot } from './internal/governance-snapshot.js';
export {
  type IdentityView,
  identityAdd,
  identityBindingFrom,
  identityList,
  identityRemove,
} from './internal/identity.js';
export { isWellFormedText, parseJson, readJsonFile, STRICT_JSON_HINT } from './internal/json.js';
export {
  type KeyRotation,
  type PolicyArtifact,
  planRootRotation,
  type RootCeremonyPlan,
  rotateKey,
  rotateRootKeys,
} from './internal/key-rotation.js';
export {
  type KeyTarget,
  keyOfFile,
  lastRoles,
  liveKey,
  openRoles,
  recordsAtHead,
  refuseRootTarget,
} from './internal/keys.js';
export { acquireRuntimeLock, RUNTIME_LOCK_FILE, type RuntimeLock } from './internal/lock.js';
export { checkName, NAME_RULE_HINT, type NameKind, namedPath } from './internal/names.js';
export { PLUGIN_DRIVER_KIND, type StagedPlugin } from './internal/plugin.js';
export {
  lastPublishedBundle,
  loadPublishedBundle,
  type PublishedBundle,
  publishPolicyBundle,
} from './internal/policy-publish.js';
export {
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  defaultReceiptPolicies,
  type LoadedReceiptPolicies,
  loadReceiptPolicies,
  MAX_IDEMPOTENCY_WINDOW_MS,
  missingReceiptPolicy,
  parseReceiptPolicies,
  RECEIPT_POLICIES_TYPE,
  type ReceiptPoliciesDocument,
  type ReceiptPolicyEntry,
  RuntimeReceiptPolicies,
  resignReceiptPolicies,
  writeReceiptPolicies,
} from './internal/receipt-policy.js';
export {
  type ExportOptions,
  exportPack,
  exportPackFile,
  exportPackFileFrom,
  exportPackFrom,
  GOVERNANCE_EFFECT_CLASS,
  type GovernedResult,
  GovernedRuntime,
  loadDataDirPolicy,
  PRODUCER,
  type RecoveryRecord,
  type ReexecutionDivergence,
  type ReexecutionResult,
  type RuntimeOptions,
  reexecute,
} from './internal/runtime.js';
export {
  attachDatabase,
  DATABASE_URL_ENV,
  type DatabaseOptions,
  type DatabaseStatus,
  inspectDatabase,
  type MigrationResult,
  migrateDatabase,
  type NodeStoreOptions,
  publishTrust,
  publishTrustRegistry,
  redactDatabaseUrl,
  refuseDatabaseRuntime,
  resolveDatabaseUrl,
  rotateKeyOnDatabase,
  type TrustPublication,
} from './internal/store-select.js';
export {
  listTools,
  prepareRepin,
  registerTool,
  repinTool,
  type StagedRepin,
  type ToolListing,
  type ToolRegistration,
  type ToolSources,
} from './internal/tools.js';
