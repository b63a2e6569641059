export {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  type ApprovalStatement,
  approvalChallengeSchema,
  approvalStatementSchema,
} from './approval.js';
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
  DECISION_TYPE,
  type DecisionRecord,
  decisionSchema,
  GATE_STAGES,
  type GateStage,
} from './decision.js';
export {
  DELEGATION_TYPE,
  type DelegationGrant,
  type DelegationPresentation,
  type DelegationSession,
  delegationGrantSchema,
  delegationPresentationSchema,
  delegationSessionSchema,
} from './delegation.js';
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
export {
  BASE64URL_PATTERN_SOURCE,
  ENVELOPE_TYPE_PATTERN_SOURCE,
  ENVELOPE_TYPE_PREFIX,
  type EnvelopeSignature,
  KEY_ID_PATTERN_SOURCE,
  MAX_ENVELOPE_SIGNATURES,
  type SignedEnvelope,
  SignedEnvelopeSchema,
} from './envelope.js';
export {
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  EVIDENCEPACK_PATH_PATTERN,
  type EvidencePackEntry,
  type EvidencePackManifest,
  type EvidencePackScope,
  evidencePackManifestSchema,
} from './evidencepack.js';
export { type AuthorizedExecutionIntent, INTENT_TYPE, intentSchema } from './intent.js';
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
  type ApprovalRequirement,
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
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyOverlaySchema,
  policyRuleSchema,
} from './policy.js';
export {
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  type ReasonCodeInfo,
  ReasonCodeSchema,
  reasonCodeInfo,
  verdictOf,
} from './reason-codes.js';
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
export { isVerdict, VERDICTS, type Verdict, VerdictSchema } from './verdict.js';
