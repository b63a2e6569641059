export {
  DECISION_TYPE,
  type DecisionRecord,
  decisionSchema,
  GATE_STAGES,
  type GateStage,
} from './decision.js';
export {
  DIGEST_PATTERN,
  EFFECT_CLASSES,
  EFFECT_TYPE,
  EFFECT_TYPE_PATTERN,
  type Effect,
  EffectSchema,
  type KnownEffectClass,
  RISK_TIERS,
  type RiskTier,
} from './effect.js';
export { ENVELOPE_TYPE_PREFIX, type EnvelopeSignature, type SignedEnvelope } from './envelope.js';
export { type AuthorizedExecutionIntent, INTENT_TYPE, intentSchema } from './intent.js';
export {
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  type ReasonCodeInfo,
} from './reason-codes.js';
export {
  DRIVER_KINDS,
  type JsonSchemaDocument,
  MAX_TOOL_TIMEOUT_MS,
  TOOL_DESCRIPTOR_TYPE,
  TOOL_NAME_PATTERN,
  type ToolDescriptor,
  type ToolDriverBinding,
  toolDescriptorSchema,
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
  trustEventSchema,
  trustSnapshotSchema,
  trustStateSchema,
} from './trust-event.js';
export { VERDICTS, type Verdict } from './verdict.js';
export {
  CHAIN_ID_PATTERN,
  RECEIPT_GENESIS_PREV_HASH,
  RECEIPT_STATUSES,
  RECEIPT_TYPE,
  type ReceiptBody,
  type ReceiptEvidenceValue,
  type ReceiptStatus,
  receiptSchema,
} from './receipt.js';
export {
  type KnownNodeKind,
  MAX_NODE_PARENTS,
  NODE_KIND_PATTERN,
  NODE_KINDS,
  NODE_TYPE,
  type NodeBody,
  nodeSchema,
} from './node.js';
export {
  CHECKPOINT_GENESIS_HASH,
  CHECKPOINT_TYPE,
  type CheckpointBody,
  checkpointSchema,
} from './checkpoint.js';
export {
  CONDENSED_ENTRY_TYPE,
  type CondensedEntry,
  condensedEntrySchema,
  LOG_GENESIS_PREV_HASH,
  LOG_LEAF_TYPE,
  type LogLeaf,
  logLeafSchema,
} from './condensed.js';
export {
  type ApprovalRequirement,
  P0_CEILING_TYPE,
  type P0Ceiling,
  p0CeilingSchema,
  POLICY_BUNDLE_TYPE,
  POLICY_OVERLAY_TYPE,
  type PolicyBundle,
  policyBundleSchema,
  type PolicyMatch,
  policyMatchSchema,
  type PolicyOverlay,
  policyOverlaySchema,
  type PolicyRule,
  policyRuleSchema,
  type PolicyScalar,
  type PolicyWhen,
} from './policy.js';
export {
  DELEGATION_TYPE,
  type DelegationGrant,
  delegationGrantSchema,
  type DelegationPresentation,
  delegationPresentationSchema,
  type DelegationSession,
  delegationSessionSchema,
} from './delegation.js';
export {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  approvalChallengeSchema,
  type ApprovalStatement,
  approvalStatementSchema,
} from './approval.js';
