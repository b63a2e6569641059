// The closed reason-code registry. Every DENY / ESCALATE (and the ALLOW code) emitted anywhere in
// HELM is one of these strings; nothing emits a code outside this table. Codes are stable API:
// never rename or reuse one, only add. Documented normatively in docs/spec/reason-codes.md.
// This module is what a verifier needs: the codes and the verdict each carries. What each code
// means, in words, is in reason-code-meanings.ts (`@helm/contracts/reason-code-meanings`), which no
// verify path imports.
import type { Verdict } from './verdict.js';

/**
 * Every registered code with the verdict it carries, in registry order. `driver: true` marks the
 * codes a driver may put on its own failure (DRIVER_FAILURE_CODES).
 */
export const REASON_CODES = {
  ALLOW: { verdict: 'ALLOW' },
  IDEMPOTENT_REPLAY: { verdict: 'ALLOW' },
  // Gate 0–4
  GATE_FROZEN: { verdict: 'DENY' },
  GATE_CONTEXT_MISMATCH: { verdict: 'DENY' },
  RESOURCE_NONCANONICAL: { verdict: 'DENY' },
  GATE_IDENTITY_ISOLATION: { verdict: 'DENY' },
  GATE_EGRESS_DENIED: { verdict: 'DENY' },
  GATE_NOT_CONFIGURED: { verdict: 'DENY' },
  THREAT_PROMPT_INJECTION: { verdict: 'DENY' },
  THREAT_COMMAND_EXECUTION: { verdict: 'DENY' },
  THREAT_CREDENTIAL_ACCESS: { verdict: 'DENY' },
  THREAT_PUBLISH: { verdict: 'DENY' },
  THREAT_EXFILTRATION: { verdict: 'DENY' },
  THREAT_UNICODE_OBFUSCATION: { verdict: 'DENY' },
  // Gate 5 — delegation
  DELEGATION_INVALID: { verdict: 'DENY' },
  DELEGATION_SCOPE_VIOLATION: { verdict: 'DENY' },
  // Policy / PDP / PRG
  NO_POLICY: { verdict: 'DENY' },
  POLICY_DENY: { verdict: 'DENY' },
  POLICY_CEILING_VIOLATION: { verdict: 'DENY' },
  POLICY_BUNDLE_INVALID: { verdict: 'DENY' },
  PRG_REQUIREMENT_MISSING: { verdict: 'DENY' },
  BUDGET_EXCEEDED: { verdict: 'DENY' },
  // Approvals
  APPROVAL_REQUIRED: { verdict: 'ESCALATE' },
  APPROVAL_TIMEOUT: { verdict: 'DENY' },
  APPROVAL_INVALID: { verdict: 'DENY' },
  APPROVAL_RATE_LIMITED: { verdict: 'DENY' },
  // Executor / PEP
  TOOL_UNKNOWN: { verdict: 'DENY' },
  TOOL_DESCRIPTOR_CHANGED: { verdict: 'DENY' },
  SCHEMA_VIOLATION: { verdict: 'DENY' },
  ARGS_MALFORMED: { verdict: 'DENY' },
  ERR_CONNECTOR_CONTRACT_DRIFT: { verdict: 'DENY' },
  INTENT_INVALID: { verdict: 'DENY' },
  IDEMPOTENCY_CONFLICT: { verdict: 'DENY' },
  IDEMPOTENCY_RECORD_INVALID: { verdict: 'DENY' },
  DRIVER_EGRESS_DENIED: { verdict: 'DENY', driver: true },
  DRIVER_ERROR: { verdict: 'DENY', driver: true },
  DRIVER_TIMEOUT: { verdict: 'DENY', driver: true },
  RECEIPT_POLICY_MISSING: { verdict: 'DENY' },
  RECEIPT_POLICY_VIOLATION: { verdict: 'DENY' },
  RECEIPT_PERSIST_FAILED: { verdict: 'DENY' },
  EXECUTION_INTERRUPTED: { verdict: 'DENY' },
  // Shared database (multi-node): the node refuses before deciding anything, and signs nothing
  TRUST_REGISTRY_STALE: { verdict: 'DENY' },
  CLOCK_SKEW: { verdict: 'DENY' },
  // Sandbox
  ERR_COMPUTE_GAS_EXHAUSTED: { verdict: 'DENY', driver: true },
  ERR_COMPUTE_TIME_EXHAUSTED: { verdict: 'DENY', driver: true },
  ERR_COMPUTE_MEMORY_EXHAUSTED: { verdict: 'DENY', driver: true },
  ERR_COMPUTE_OUTPUT_EXHAUSTED: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP: { verdict: 'DENY', driver: true },
  SANDBOX_VIOLATION: { verdict: 'DENY', driver: true },
  SANDBOX_INVALID_MODULE: { verdict: 'DENY', driver: true },
  SANDBOX_EXIT_NONZERO: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_UNREACHABLE: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_OUT_OF_BOUNDS: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_DIVIDE_BY_ZERO: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_INTEGER_OVERFLOW: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_INVALID_CONVERSION: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_INDIRECT_CALL: { verdict: 'DENY', driver: true },
  SANDBOX_TRAP_STACK_OVERFLOW: { verdict: 'DENY', driver: true },
  SANDBOX_OUTPUT_INVALID: { verdict: 'DENY', driver: true },
  // Trust / evidence
  TRUST_KEY_UNKNOWN: { verdict: 'DENY' },
  TRUST_KEY_REVOKED: { verdict: 'DENY' },
  TRUST_ROLE_MISSING: { verdict: 'DENY' },
  SIGNATURE_INVALID: { verdict: 'DENY' },
  CHAIN_BROKEN: { verdict: 'DENY' },
  TRUST_HISTORY_INVALID: { verdict: 'DENY' },
  TUF_METADATA_INVALID: { verdict: 'DENY' },
  ARTIFACT_PROVENANCE_INVALID: { verdict: 'DENY' },
  // Envelopes and keys (crypto)
  ENVELOPE_INVALID: { verdict: 'DENY' },
  KEY_INVALID: { verdict: 'DENY' },
  // Catch-all
  INTERNAL_ERROR: { verdict: 'DENY' },
} as const satisfies Record<string, { readonly verdict: Verdict; readonly driver?: true }>;

export type ReasonCode = keyof typeof REASON_CODES;

export const REASON_CODE_LIST: readonly ReasonCode[] = Object.freeze(
  Object.keys(REASON_CODES) as ReasonCode[],
);

/**
 * The codes a driver may put on its own failure (docs/spec/reason-codes.md §Driver failures), in
 * registry order. A driver reports what went wrong inside the tool; it can never claim a gate,
 * policy, approval or trust outcome, so any other code it reports is recorded as DRIVER_ERROR.
 */
export const DRIVER_FAILURE_CODES: readonly ReasonCode[] = Object.freeze(
  REASON_CODE_LIST.filter((code) => 'driver' in REASON_CODES[code]),
);

/** Whether a driver may report `value` as its failure code (a string in DRIVER_FAILURE_CODES). */
export function isDriverFailureCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (DRIVER_FAILURE_CODES as readonly string[]).includes(value);
}

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.hasOwn(REASON_CODES, value);
}

/** The verdict a reason code carries. */
export function verdictOf(code: ReasonCode): Verdict {
  return REASON_CODES[code].verdict;
}
