// The closed reason-code registry. Every DENY / ESCALATE (and the ALLOW code) emitted anywhere in
// HELM is one of these strings; nothing emits a code outside this table. Codes are stable API:
// never rename or reuse one, only add. Documented normatively in docs/spec/reason-codes.md.
import type { Verdict } from './verdict.js';

export interface ReasonCodeInfo {
  readonly verdict: Verdict;
  readonly meaning: string;
}

export const REASON_CODES = {
  ALLOW: { verdict: 'ALLOW', meaning: 'Every gate, policy, budget and requirement passed.' },
  IDEMPOTENT_REPLAY: {
    verdict: 'ALLOW',
    meaning:
      'A repeat re-authorized through the full gate chain released the stored output of the original call (no driver ran).',
  },
  // Gate 0–4
  GATE_FROZEN: { verdict: 'DENY', meaning: 'Gate 0: the system is frozen (kill switch engaged).' },
  GATE_CONTEXT_MISMATCH: {
    verdict: 'DENY',
    meaning: 'Gate 1: the runtime environment fingerprint differs from the one bound at start-up.',
  },
  RESOURCE_NONCANONICAL: {
    verdict: 'DENY',
    meaning:
      'Gate 1: the resource is not in the canonical form of its kind (absolute path, URL or opaque); denied before any scope or rule matching.',
  },
  GATE_IDENTITY_ISOLATION: {
    verdict: 'DENY',
    meaning: 'Gate 2: the credential is bound to a different principal.',
  },
  GATE_EGRESS_DENIED: {
    verdict: 'DENY',
    meaning: 'Gate 3: destination, protocol or payload size is not on the egress allowlist.',
  },
  GATE_NOT_CONFIGURED: {
    verdict: 'DENY',
    meaning: 'A mandatory gate has no configuration; unconfigured gates deny all.',
  },
  THREAT_PROMPT_INJECTION: {
    verdict: 'DENY',
    meaning: 'Gate 4: prompt-injection signal in untrusted input.',
  },
  THREAT_COMMAND_EXECUTION: {
    verdict: 'DENY',
    meaning: 'Gate 4: command-execution signal in untrusted input.',
  },
  THREAT_CREDENTIAL_ACCESS: {
    verdict: 'DENY',
    meaning: 'Gate 4: credential-access signal in untrusted input.',
  },
  THREAT_PUBLISH: {
    verdict: 'DENY',
    meaning: 'Gate 4: unauthorised publish/release signal in untrusted input.',
  },
  THREAT_EXFILTRATION: { verdict: 'DENY', meaning: 'Gate 4: data-exfiltration signal in untrusted input.' },
  THREAT_UNICODE_OBFUSCATION: {
    verdict: 'DENY',
    meaning:
      'Gate 4: obfuscating unicode (zero-width, bidi controls, mixed-script homoglyphs) in untrusted input.',
  },
  // Gate 5 — delegation
  DELEGATION_INVALID: {
    verdict: 'DENY',
    meaning:
      'Gate 5: the delegation session is unknown, expired, revoked, replayed or fails verifier binding.',
  },
  DELEGATION_SCOPE_VIOLATION: {
    verdict: 'DENY',
    meaning: "Gate 5: the call is outside the delegation session's granted scope.",
  },
  // Policy / PDP / PRG
  NO_POLICY: { verdict: 'DENY', meaning: 'No policy is loaded or no rule allows the call (default deny).' },
  POLICY_DENY: { verdict: 'DENY', meaning: 'A policy rule denies the call.' },
  POLICY_CEILING_VIOLATION: { verdict: 'DENY', meaning: 'A P0 ceiling forbids the effect.' },
  POLICY_BUNDLE_INVALID: {
    verdict: 'DENY',
    meaning: 'A policy bundle is malformed, unsigned, tampered with or fails load-time validation.',
  },
  PRG_REQUIREMENT_MISSING: {
    verdict: 'DENY',
    meaning: 'A proof requirement (PRG) for the effect is not met.',
  },
  BUDGET_EXCEEDED: { verdict: 'DENY', meaning: 'The principal or tenant budget cannot cover the call.' },
  // Approvals
  APPROVAL_REQUIRED: { verdict: 'ESCALATE', meaning: 'The effect requires a human approval quorum.' },
  APPROVAL_TIMEOUT: { verdict: 'DENY', meaning: 'The approval challenge expired before quorum.' },
  APPROVAL_INVALID: {
    verdict: 'DENY',
    meaning:
      'An approval or grant is invalid: bad signature, wrong intent, unauthorised or duplicate approver, timelock, reuse.',
  },
  APPROVAL_RATE_LIMITED: {
    verdict: 'DENY',
    meaning: 'An approver or principal exceeded the approval rate limit.',
  },
  // Executor / PEP
  TOOL_UNKNOWN: { verdict: 'DENY', meaning: 'The tool is not registered on the declared surface.' },
  TOOL_DESCRIPTOR_CHANGED: {
    verdict: 'DENY',
    meaning: 'The tool descriptor differs from the pinned one (possible rug pull); re-pin required.',
  },
  SCHEMA_VIOLATION: { verdict: 'DENY', meaning: 'The arguments do not satisfy the pinned input schema.' },
  ARGS_MALFORMED: { verdict: 'DENY', meaning: 'The arguments are not strict, representable JSON.' },
  ERR_CONNECTOR_CONTRACT_DRIFT: {
    verdict: 'DENY',
    meaning: 'The tool output violates its pinned output schema; the output was not released.',
  },
  INTENT_INVALID: {
    verdict: 'DENY',
    meaning:
      'The AuthorizedExecutionIntent is unsigned, expired, or not bound to this decision, effect, args and tool.',
  },
  IDEMPOTENCY_CONFLICT: {
    verdict: 'DENY',
    meaning: 'The idempotency key was already used with different arguments.',
  },
  IDEMPOTENCY_RECORD_INVALID: {
    verdict: 'DENY',
    meaning:
      'The stored result of an idempotent call does not match its original receipt; nothing was released.',
  },
  DRIVER_EGRESS_DENIED: {
    verdict: 'DENY',
    meaning: 'The driver refused to contact an endpoint other than the destination the guardian authorized.',
  },
  DRIVER_ERROR: {
    verdict: 'DENY',
    meaning: 'The driver threw or returned non-JSON output; no output released.',
  },
  DRIVER_TIMEOUT: {
    verdict: 'DENY',
    meaning: 'The driver exceeded the per-tool timeout; no output released.',
  },
  RECEIPT_POLICY_MISSING: {
    verdict: 'DENY',
    meaning: 'The effect class has no receipt policy (fail closed).',
  },
  RECEIPT_POLICY_VIOLATION: {
    verdict: 'DENY',
    meaning: 'A receipt-policy precondition or required receipt field is not satisfied.',
  },
  RECEIPT_PERSIST_FAILED: {
    verdict: 'DENY',
    meaning: 'The receipt could not be produced or persisted; the output was not released.',
  },
  EXECUTION_INTERRUPTED: {
    verdict: 'DENY',
    meaning:
      'The process stopped after the call was admitted and before its receipt; the effect may have happened.',
  },
  // Sandbox
  ERR_COMPUTE_GAS_EXHAUSTED: { verdict: 'DENY', meaning: 'Sandbox: the gas budget was exhausted.' },
  ERR_COMPUTE_TIME_EXHAUSTED: { verdict: 'DENY', meaning: 'Sandbox: the wall-clock deadline passed.' },
  ERR_COMPUTE_MEMORY_EXHAUSTED: { verdict: 'DENY', meaning: 'Sandbox: linear memory hit its cap.' },
  ERR_COMPUTE_OUTPUT_EXHAUSTED: {
    verdict: 'DENY',
    meaning: 'Sandbox: stdout/stderr exceeded the output cap.',
  },
  SANDBOX_TRAP: {
    verdict: 'DENY',
    meaning: 'Sandbox: the guest trapped (unreachable, bounds, stack, arithmetic).',
  },
  SANDBOX_VIOLATION: {
    verdict: 'DENY',
    meaning: 'Sandbox: the module imports something the sandbox does not provide.',
  },
  SANDBOX_INVALID_MODULE: {
    verdict: 'DENY',
    meaning: 'Sandbox: the module is malformed, oversized or uses an unsupported feature.',
  },
  SANDBOX_EXIT_NONZERO: { verdict: 'DENY', meaning: 'Sandbox: the guest exited with a non-zero status.' },
  SANDBOX_TRAP_UNREACHABLE: {
    verdict: 'DENY',
    meaning: 'Sandbox: the guest executed `unreachable` (e.g. a panic or abort), not a gas trap.',
  },
  SANDBOX_TRAP_OUT_OF_BOUNDS: {
    verdict: 'DENY',
    meaning: 'Sandbox: the guest accessed linear memory or a table out of bounds.',
  },
  SANDBOX_TRAP_DIVIDE_BY_ZERO: {
    verdict: 'DENY',
    meaning: 'Sandbox: integer division or remainder by zero.',
  },
  SANDBOX_TRAP_INTEGER_OVERFLOW: {
    verdict: 'DENY',
    meaning: 'Sandbox: integer overflow (e.g. INT_MIN / -1).',
  },
  SANDBOX_TRAP_INVALID_CONVERSION: {
    verdict: 'DENY',
    meaning: 'Sandbox: a float-to-integer conversion was out of range or NaN.',
  },
  SANDBOX_TRAP_INDIRECT_CALL: {
    verdict: 'DENY',
    meaning: 'Sandbox: an indirect call hit a null entry, a bad table index or a signature mismatch.',
  },
  SANDBOX_TRAP_STACK_OVERFLOW: { verdict: 'DENY', meaning: 'Sandbox: the guest exhausted the call stack.' },
  SANDBOX_OUTPUT_INVALID: {
    verdict: 'DENY',
    meaning: 'Sandbox: the guest output is not the expected encoding (e.g. not a UTF-8 JSON document).',
  },
  // Trust / evidence
  TRUST_KEY_UNKNOWN: { verdict: 'DENY', meaning: 'The signing key is not in the trust registry.' },
  TRUST_KEY_REVOKED: { verdict: 'DENY', meaning: 'The signing key was revoked before the signature.' },
  TRUST_ROLE_MISSING: { verdict: 'DENY', meaning: 'The key did not hold the required role at that height.' },
  SIGNATURE_INVALID: { verdict: 'DENY', meaning: 'A signature does not verify under the strict policy.' },
  CHAIN_BROKEN: { verdict: 'DENY', meaning: 'A hash link or Lamport clock in a chain does not hold.' },
  TRUST_HISTORY_INVALID: {
    verdict: 'DENY',
    meaning:
      'The trust registry history or snapshot does not verify (signature, hash link, authorization, anchor or state hash).',
  },
  TUF_METADATA_INVALID: {
    verdict: 'DENY',
    meaning:
      'TUF distribution refused: bad threshold signature, expired (freeze), rolled back, or a length/hash mismatch.',
  },
  ARTIFACT_PROVENANCE_INVALID: {
    verdict: 'DENY',
    meaning:
      'A Sigstore bundle or SLSA provenance does not verify or does not match the artifact, builder or source expected.',
  },
  // Envelopes and keys (crypto)
  ENVELOPE_INVALID: {
    verdict: 'DENY',
    meaning:
      'A signed envelope is malformed, not canonical JCS, of an unexpected type, short of its signature threshold, or over the size/depth limits.',
  },
  KEY_INVALID: {
    verdict: 'DENY',
    meaning:
      'A public key is malformed, non-canonical, of small order or outside the prime-order subgroup (strict Ed25519 key rules).',
  },
  // Catch-all
  INTERNAL_ERROR: { verdict: 'DENY', meaning: 'An unexpected error occurred; the kernel failed closed.' },
} as const satisfies Record<string, ReasonCodeInfo>;

export type ReasonCode = keyof typeof REASON_CODES;

/**
 * The codes a driver may put on its own failure (docs/spec/reason-codes.md §Driver failures). A
 * driver reports what went wrong inside the tool; it can never claim a gate, policy, approval or
 * trust outcome, so any other code it reports is recorded as DRIVER_ERROR.
 */
export const DRIVER_FAILURE_CODES: readonly ReasonCode[] = Object.freeze([
  'DRIVER_ERROR',
  'DRIVER_TIMEOUT',
  'DRIVER_EGRESS_DENIED',
  'ERR_COMPUTE_GAS_EXHAUSTED',
  'ERR_COMPUTE_TIME_EXHAUSTED',
  'ERR_COMPUTE_MEMORY_EXHAUSTED',
  'ERR_COMPUTE_OUTPUT_EXHAUSTED',
  'SANDBOX_TRAP',
  'SANDBOX_VIOLATION',
  'SANDBOX_INVALID_MODULE',
  'SANDBOX_EXIT_NONZERO',
  'SANDBOX_TRAP_UNREACHABLE',
  'SANDBOX_TRAP_OUT_OF_BOUNDS',
  'SANDBOX_TRAP_DIVIDE_BY_ZERO',
  'SANDBOX_TRAP_INTEGER_OVERFLOW',
  'SANDBOX_TRAP_INVALID_CONVERSION',
  'SANDBOX_TRAP_INDIRECT_CALL',
  'SANDBOX_TRAP_STACK_OVERFLOW',
  'SANDBOX_OUTPUT_INVALID',
] satisfies ReasonCode[]);

/** Whether a driver may report `value` as its failure code (a string in DRIVER_FAILURE_CODES). */
export function isDriverFailureCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (DRIVER_FAILURE_CODES as readonly string[]).includes(value);
}

export const REASON_CODE_LIST: readonly ReasonCode[] = Object.freeze(
  Object.keys(REASON_CODES) as ReasonCode[],
);

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.hasOwn(REASON_CODES, value);
}

/** The registry entry (verdict and meaning) of a code. */
export function reasonCodeInfo(code: ReasonCode): ReasonCodeInfo {
  return REASON_CODES[code];
}

/** The verdict a reason code carries. */
export function verdictOf(code: ReasonCode): ReasonCodeInfo['verdict'] {
  return REASON_CODES[code].verdict;
}

/** JSON Schema of a reason code: exactly the registered strings. */
export const ReasonCodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.reason_code.v1.json',
  title: 'ReasonCode',
  description: 'A code from the closed reason-code registry (docs/spec/reason-codes.md).',
  type: 'string',
  enum: [...REASON_CODE_LIST],
} as const;
