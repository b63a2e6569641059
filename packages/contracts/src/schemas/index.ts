// Entry point `@helm/contracts/schemas`: the draft 2020-12 JSON Schema of every HELM wire type, as
// data for external validators (ajv). One file per wire type, beside its types in ../<name>.ts.
export { approvalChallengeSchema, approvalStatementSchema } from './approval.js';
export { checkpointSchema } from './checkpoint.js';
export { condensedEntrySchema, logLeafSchema } from './condensed.js';
export { decisionSchema } from './decision.js';
export {
  delegationGrantSchema,
  delegationPresentationSchema,
  delegationSessionSchema,
} from './delegation.js';
export { EffectSchema } from './effect.js';
export { SignedEnvelopeSchema } from './envelope.js';
export { nodeSchema } from './node.js';
export {
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyOverlaySchema,
  policyRuleSchema,
} from './policy.js';
export { ReasonCodeSchema } from './reason-codes.js';
export { RECEIPT_SCHEMA_VALIDATOR_OPTIONS, receiptSchema } from './receipt.js';
export { toolDescriptorSchema } from './tool.js';
export { trustEventSchema, trustSnapshotSchema, trustStateSchema } from './trust-event.js';
export { VerdictSchema } from './verdict.js';
