// Entry point `@helm/contracts/schemas`: the draft 2020-12 JSON Schemas a TCB package compiles into
// its generated validators at build time (guardian: policy, delegation, approval; executor: the
// tool descriptor). Every other HELM schema — the receipt's included — is data for external
// validators only and lives in the non-TCB `@helm/schemas` (TCB_POLICY.md §What is in the TCB),
// which re-exports these too. One file per wire type, beside its types in ../<name>.ts.
export { approvalChallengeSchema, approvalStatementSchema } from './approval.js';
export {
  delegationGrantSchema,
  delegationPresentationSchema,
  delegationSessionSchema,
} from './delegation.js';
export {
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyOverlaySchema,
  policyRuleSchema,
} from './policy.js';
export { toolDescriptorSchema } from './tool.js';
