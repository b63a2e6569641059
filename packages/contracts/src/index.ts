export {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_REQUIREMENT_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  type ApprovalStatement,
} from './approval.js';
export {
  CHECKPOINT_FIELDS,
  CHECKPOINT_GENESIS_HASH,
  CHECKPOINT_TYPE,
  type CheckpointBody,
} from './checkpoint.js';
export {
  CONDENSED_ENTRY_FIELDS,
  CONDENSED_ENTRY_TYPE,
  type CondensedEntry,
  LOG_GENESIS_PREV_HASH,
  LOG_LEAF_TYPE,
  type LogLeaf,
} from './condensed.js';
export {
  DECISION_TYPE,
  type DecisionRecord,
  GATE_STAGES,
  type GateStage,
} from './decision.js';
export {
  DELEGATION_TYPE,
  type DelegationGrant,
  type DelegationPresentation,
  type DelegationSession,
} from './delegation.js';
export {
  EFFECT_CLASSES,
  EFFECT_TYPE,
  EFFECT_TYPE_PATTERN,
  type Effect,
  type KnownEffectClass,
  RISK_TIERS,
  type RiskTier,
} from './effect.js';
export type {
  EnvelopeSignature,
  SignedEnvelope,
} from './envelope.js';
export {
  EVIDENCEPACK_ENTRIES_PATH,
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  EVIDENCEPACK_PATH_PATTERN,
  type EvidencePackEntriesRef,
  type EvidencePackEntry,
  type EvidencePackManifest,
  type EvidencePackScope,
} from './evidencepack.js';
export {
  GOVERNANCE_ACTION_ROLES,
  GOVERNANCE_ACTIONS,
  GOVERNANCE_ADMIN_ACTIONS,
  GOVERNANCE_ADMIN_TOOL_PREFIX,
  GOVERNANCE_APPLIED_TYPE,
  GOVERNANCE_CURSOR_TYPE,
  GOVERNANCE_EVENT_TYPE,
  GOVERNANCE_GENESIS_PREV,
  GOVERNANCE_LINK_TYPE,
  type GovernanceAction,
  type GovernanceCursorBody,
  type GovernanceEventBody,
} from './governance.js';
export {
  MAX_NODE_PARENTS,
  NODE_FIELDS,
  NODE_KIND_PATTERN,
  NODE_TYPE,
  type NodeBody,
} from './node.js';
export {
  type ApprovalRequirement,
  BUDGET_WINDOWS,
  type BudgetLimits,
  type BudgetWindow,
  P0_CEILING_TYPE,
  type P0Ceiling,
  POLICY_BUNDLE_TYPE,
  POLICY_OVERLAY_TYPE,
  type PolicyBundle,
  type PolicyMatch,
  type PolicyOverlay,
  type PolicyRule,
  type PolicyScalar,
  type PolicyWhen,
} from './policy.js';
export { REASON_CODE_MEANINGS, type ReasonCodeInfo, reasonCodeInfo } from './reason-code-meanings.js';
export {
  DRIVER_FAILURE_CODES,
  isDriverFailureCode,
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  verdictOf,
} from './reason-codes.js';
export {
  CHAIN_ID_PATTERN,
  RECEIPT_FIELDS,
  RECEIPT_GENESIS_PREV_HASH,
  RECEIPT_STATUSES,
  RECEIPT_TYPE,
  type ReceiptBody,
  type ReceiptEvidenceValue,
  type ReceiptStatus,
} from './receipt.js';
export * from './schemas/index.js';
export {
  type JsonSchemaDocument,
  MAX_TOOL_TIMEOUT_MS,
  TOOL_DESCRIPTOR_TYPE,
  TOOL_NAME_PATTERN,
  type ToolDescriptor,
  type ToolDriverBinding,
} from './tool.js';
export {
  TRUST_EVENT_KINDS,
  TRUST_EVENT_TYPE,
  TRUST_GENESIS_PREV,
  TRUST_ROLES,
  TRUST_SNAPSHOT_TYPE,
  TRUST_STATE_TYPE,
  type TrustEvent,
  type TrustEventKind,
  type TrustGenesisEvent,
  type TrustKeyPublishEvent,
  type TrustKeyRecord,
  type TrustKeyRef,
  type TrustKeyRevokeEvent,
  type TrustKeyRotateEvent,
  type TrustRole,
  type TrustRoleGrantEvent,
  type TrustRoleInterval,
  type TrustRoleRevokeEvent,
  type TrustRootThresholdSetEvent,
  type TrustSnapshot,
  type TrustState,
} from './trust-event.js';
export { isVerdict, VERDICTS, type Verdict } from './verdict.js';
export {
  BASE64URL_PATTERN,
  DIGEST_PATTERN,
  DIGEST_PREFIX,
  ENVELOPE_TYPE_PATTERN,
  type JsonValue,
  KEY_ID_PATTERN,
  KEY_ID_PREFIX,
  MAX_ENVELOPE_SIGNATURES,
  MAX_ENVELOPE_TYPE_LENGTH,
  type RoleKeyLookup,
} from './wire.js';
