// Public API of @helm/schemas: the draft 2020-12 JSON Schema of every HELM wire type, as data for
// external validators (ajv), OpenAPI documents and tests. Not part of the TCB: the verifiers check
// the same rules in code and never read a schema. The schemas a TCB package compiles at build time
// stay in `@helm/contracts/schemas` and are re-exported here, so this is the one place to import
// any of them from. Types and constants of each wire type: @helm/contracts.
export * from '@helm/contracts/schemas';
export { checkpointSchema } from './checkpoint.js';
export { condensedEntrySchema, logLeafSchema } from './condensed.js';
export { decisionSchema } from './decision.js';
export { EffectSchema } from './effect.js';
export { SignedEnvelopeSchema } from './envelope.js';
export { nodeSchema } from './node.js';
export { ReasonCodeSchema } from './reason-codes.js';
export { RECEIPT_SCHEMA_VALIDATOR_OPTIONS, receiptSchema } from './receipt.js';
export { trustEventSchema, trustSnapshotSchema, trustStateSchema } from './trust-event.js';
export { VerdictSchema } from './verdict.js';
