// Public API of @helm/runtime-sandbox.
export { type Clock, systemClock } from './internal/clock.js';
export { SandboxError, type SandboxErrorCode } from './internal/errors.js';
export type { GuestFailureCode, GuestOutcome } from './internal/guest-run.js';
export {
  type GuestResourceLimits,
  guestResourceLimits,
  type IsolatedCall,
  type IsolatedComponent,
  type IsolatedCoreModule,
  type IsolatedModule,
  type IsolationOutcome,
  type IsolationPort,
  THREAD_ISOLATION_MODULE,
  type ThreadIsolationOptions,
  threadIsolation,
} from './internal/isolation.js';
export { decodeJsonOutput, encodeJsonInput } from './internal/json-io.js';
export { PREVIEW2_INTERFACES } from './internal/preview2-host.js';
export {
  createSandbox,
  type ModuleHandle,
  type ModuleKind,
  type RegisterOptions,
  type RunLimits,
  type Sandbox,
  type SandboxFailureCode,
  type SandboxOptions,
  type SandboxResult,
  type TranspiledComponent,
} from './internal/sandbox.js';
