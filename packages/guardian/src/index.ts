// Public API of @helm/guardian: the fail-closed PEP (gates 0–9, policy stack,
// budgets, delegation sessions, approval ceremonies, signed decisions).
export {
  ApprovalCeremonies,
  type ApprovalLogEntry,
  type ApprovalOptions,
  type ApprovalStatus,
  type ChallengeClosure,
  type ChallengeInput,
  type GrantCheck,
  type GrantUse,
  intentHash,
  type RateLimit,
  type RequirementWithRule,
  requirementDigest,
} from './approval.js';
export {
  BUDGET_WINDOW_MS,
  type BudgetAccountState,
  type BudgetCharge,
  type BudgetLedger,
  budgetAccount,
  InMemoryBudgetLedger,
} from './budget.js';
export {
  type CreateSessionInput,
  type DelegationCheck,
  DelegationRegistry,
  type DelegationRegistryOptions,
  draftSession,
  grantWithinAuthority,
  pkceChallenge,
} from './delegation.js';
export {
  type Destination,
  EGRESS_EFFECT_TYPES,
  type EgressConfig,
  EgressPolicy,
  type EgressRule,
  normalizeHost,
} from './egress.js';
export { GuardianError, type GuardianErrorCode } from './errors.js';
export { FREEZE_EVENT_TYPE, type FreezeEvent, FreezeSwitch } from './freeze.js';
export {
  DEFAULT_INTENT_TTL_MS,
  type Evaluation,
  type ExecutorCall,
  GATE_ROSTER_TYPE,
  type GrantToConsume,
  Guardian,
  type GuardianOptions,
  MAX_INTENT_TTL_MS,
} from './guardian.js';
export type { IdentityBinding } from './identity.js';
export { type ResourceKind, resourceDefect, resourceKind } from './internal/resource.js';
export { InMemoryNonceStore, type NonceStore } from './nonce-store.js';
export {
  type LoadPolicyStackInput,
  loadBundle,
  loadPolicyStack,
  type PolicyOutcome,
  PolicyStack,
  type PolicySubject,
  type PolicyToolSubject,
  type PolicyVocabulary,
  parseOverlay,
  parseP0,
  type ScopeSubject,
  type StackConflict,
  type StackLayer,
} from './policy.js';
export {
  type AuthorizedKey,
  type Clock,
  type EventSink,
  type GuardianEvent,
  type GuardianEventKind,
  type KeyAuthorization,
  ManualClock,
} from './ports.js';
export { type DecisionContext, type DecisionRequest, decisionRequestSchema } from './request.js';
export {
  DEFAULT_THREAT_CONFIG,
  normalizeForScan,
  scanInputs,
  scanText,
  THREAT_CATEGORIES,
  THREAT_PRECEDENCE,
  THREAT_RULES,
  type ThreatCode,
  type ThreatScanConfig,
  TRUST_LEVELS,
  type TrustLevel,
  type UntrustedInput,
} from './threat.js';
