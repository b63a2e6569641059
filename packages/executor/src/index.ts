// Public API of @helm/executor: the tool registry (Layer A), the schema PEP, the SafeExecutor
// pipeline (docs/spec/pipeline.md), drivers and idempotency.

// The JSON value type of drivers and outputs is @helm/crypto's (re-exported for drivers).
export type { JsonValue } from '@helm/crypto';
export { type Driver, type DriverContext, DriverFailure } from './driver.js';
export { buildEffect } from './effect.js';
export { ExecutorError, type ExecutorErrorCode } from './errors.js';
export {
  createExecutor,
  EXECUTOR_DENIAL_TYPE,
  type ExecuteRequest,
  type ExecuteResult,
  type Executor,
  type ExecutorOptions,
  UNKNOWN_EFFECT_CLASS,
} from './executor.js';
export { functionDriver, type ToolFunction } from './function-driver.js';
export type {
  GrantToConsume,
  GuardianCall,
  GuardianEvaluation,
  GuardianPort,
  ProofGraphPort,
  ProofGraphRecord,
  ReceiptPort,
} from './governance.js';
export {
  clientIdempotencyKey,
  deriveIdempotencyKey,
  IDEMPOTENCY_KEY_TYPE,
  type IdempotencyRecord,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
} from './idempotency.js';
export {
  ADMISSION_TYPE,
  type AdmissionEntry,
  type AdmissionJournal,
  InMemoryAdmissionJournal,
} from './journal.js';
export { type PrepareArgsResult, type PreparedArgs, prepareArgsText, prepareArgsValue } from './pep.js';
export type { Clock, Timer } from './ports.js';
export { type ProofGraphPortOptions, proofGraphPort } from './proofgraph-port.js';
export { descriptorDigest, type PinnedTool, type RegisteredTool, ToolRegistry } from './registry.js';
export { REQUEST_FIELDS, type RequestField } from './request-digest.js';
export { type SandboxDriverOptions, sandboxDriver, sandboxReasonCode } from './sandbox-driver.js';
export {
  type CompiledSchema,
  MAX_SCHEMA_ERROR_DETAILS,
  SchemaCache,
  type SchemaErrorDetail,
  type SchemaValidationResult,
} from './schema.js';
