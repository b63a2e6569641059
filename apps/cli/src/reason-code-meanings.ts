// What each reason code means, in words: the `meaning` column of docs/spec/reason-codes.md (a test,
// test/reason-code-meanings.test.ts, keeps the page and this table identical). For people and
// reports — `helmts run` explains a result with it — so it lives here, outside the TCB: the
// registry of codes and verdicts is @helm/contracts (`@helm/contracts/reason-codes`).
import { type ReasonCode, type Verdict, verdictOf } from '@helm/contracts';

export interface ReasonCodeInfo {
  readonly verdict: Verdict;
  readonly meaning: string;
}

/** The one-line meaning of every registered code (exactly the registry's codes, in its order). */
export const REASON_CODE_MEANINGS = {
  ALLOW: 'Every gate, policy, budget and requirement passed.',
  IDEMPOTENT_REPLAY:
    'A repeat re-authorized through the full gate chain released the stored output of the original call (no driver ran).',
  // Gate 0–4
  GATE_FROZEN: 'Gate 0: the system is frozen (kill switch engaged).',
  GATE_CONTEXT_MISMATCH:
    'Gate 1: the runtime environment fingerprint differs from the one bound at start-up.',
  RESOURCE_NONCANONICAL:
    'Gate 1: the resource is not in the canonical form of its kind (absolute path, URL or opaque); denied before any scope or rule matching.',
  GATE_IDENTITY_ISOLATION: 'Gate 2: the credential is bound to a different principal.',
  GATE_EGRESS_DENIED: 'Gate 3: destination, protocol or payload size is not on the egress allowlist.',
  GATE_NOT_CONFIGURED: 'A mandatory gate has no configuration; unconfigured gates deny all.',
  THREAT_PROMPT_INJECTION: 'Gate 4: prompt-injection signal in untrusted input.',
  THREAT_COMMAND_EXECUTION: 'Gate 4: command-execution signal in untrusted input.',
  THREAT_CREDENTIAL_ACCESS: 'Gate 4: credential-access signal in untrusted input.',
  THREAT_PUBLISH: 'Gate 4: unauthorised publish/release signal in untrusted input.',
  THREAT_EXFILTRATION: 'Gate 4: data-exfiltration signal in untrusted input.',
  THREAT_UNICODE_OBFUSCATION:
    'Gate 4: obfuscating unicode (zero-width, bidi controls, mixed-script homoglyphs) in untrusted input.',
  // Gate 5 — delegation
  DELEGATION_INVALID:
    'Gate 5: the delegation session is unknown, expired, revoked, replayed or fails verifier binding.',
  DELEGATION_SCOPE_VIOLATION: "Gate 5: the call is outside the delegation session's granted scope.",
  // Policy / PDP / PRG
  NO_POLICY: 'No policy is loaded or no rule allows the call (default deny).',
  POLICY_DENY: 'A policy rule denies the call.',
  POLICY_CEILING_VIOLATION: 'A P0 ceiling forbids the effect.',
  POLICY_BUNDLE_INVALID:
    'A policy bundle is malformed, unsigned, tampered with or fails load-time validation.',
  PRG_REQUIREMENT_MISSING: 'A proof requirement (PRG) for the effect is not met.',
  BUDGET_EXCEEDED: 'The principal or tenant budget cannot cover the call.',
  // Approvals
  APPROVAL_REQUIRED: 'The effect requires a human approval quorum.',
  APPROVAL_TIMEOUT: 'The approval challenge expired before quorum.',
  APPROVAL_INVALID:
    'An approval or grant is invalid: bad signature, wrong intent, unauthorised or duplicate approver, timelock, reuse.',
  APPROVAL_RATE_LIMITED: 'An approver or principal exceeded the approval rate limit.',
  // Executor / PEP
  TOOL_UNKNOWN: 'The tool is not registered on the declared surface.',
  TOOL_DESCRIPTOR_CHANGED:
    'The tool descriptor differs from the pinned one (possible rug pull); re-pin required.',
  SCHEMA_VIOLATION: 'The arguments do not satisfy the pinned input schema.',
  ARGS_MALFORMED: 'The arguments are not strict, representable JSON.',
  ERR_CONNECTOR_CONTRACT_DRIFT:
    'The tool output violates its pinned output schema; the output was not released.',
  INTENT_INVALID:
    'The AuthorizedExecutionIntent is unsigned, expired, or not bound to this decision, effect, args and tool.',
  IDEMPOTENCY_CONFLICT: 'The idempotency key was already used with different arguments.',
  IDEMPOTENCY_RECORD_INVALID:
    'The stored result of an idempotent call does not match its original receipt; nothing was released.',
  DRIVER_EGRESS_DENIED:
    'The driver refused to contact an endpoint other than the destination the guardian authorized.',
  DRIVER_ERROR: 'The driver threw or returned non-JSON output; no output released.',
  DRIVER_TIMEOUT: 'The driver exceeded the per-tool timeout; no output released.',
  RECEIPT_POLICY_MISSING: 'The effect class has no receipt policy (fail closed).',
  RECEIPT_POLICY_VIOLATION: 'A receipt-policy precondition or required receipt field is not satisfied.',
  RECEIPT_PERSIST_FAILED: 'The receipt could not be produced or persisted; the output was not released.',
  EXECUTION_INTERRUPTED:
    'The process stopped after the call was admitted and before its receipt; the effect may have happened.',
  // Shared database (multi-node)
  TRUST_REGISTRY_STALE:
    'Shared database: the trust registry there is not the one this node runs under (a newer one was published, or it was rewritten in place); nothing was decided, signed or run.',
  CLOCK_SKEW:
    "Shared database: this node's clock is more than the tolerance off the database's; nothing was decided, signed or run.",
  // Sandbox
  ERR_COMPUTE_GAS_EXHAUSTED: 'Sandbox: the gas budget was exhausted.',
  ERR_COMPUTE_TIME_EXHAUSTED: 'Sandbox: the wall-clock deadline passed.',
  ERR_COMPUTE_MEMORY_EXHAUSTED: 'Sandbox: linear memory hit its cap.',
  ERR_COMPUTE_OUTPUT_EXHAUSTED: 'Sandbox: stdout/stderr exceeded the output cap.',
  SANDBOX_TRAP: 'Sandbox: the guest trapped (unreachable, bounds, stack, arithmetic).',
  SANDBOX_VIOLATION: 'Sandbox: the module imports something the sandbox does not provide.',
  SANDBOX_INVALID_MODULE: 'Sandbox: the module is malformed, oversized or uses an unsupported feature.',
  SANDBOX_EXIT_NONZERO: 'Sandbox: the guest exited with a non-zero status.',
  SANDBOX_TRAP_UNREACHABLE:
    'Sandbox: the guest executed `unreachable` (e.g. a panic or abort), not a gas trap.',
  SANDBOX_TRAP_OUT_OF_BOUNDS: 'Sandbox: the guest accessed linear memory or a table out of bounds.',
  SANDBOX_TRAP_DIVIDE_BY_ZERO: 'Sandbox: integer division or remainder by zero.',
  SANDBOX_TRAP_INTEGER_OVERFLOW: 'Sandbox: integer overflow (e.g. INT_MIN / -1).',
  SANDBOX_TRAP_INVALID_CONVERSION: 'Sandbox: a float-to-integer conversion was out of range or NaN.',
  SANDBOX_TRAP_INDIRECT_CALL:
    'Sandbox: an indirect call hit a null entry, a bad table index or a signature mismatch.',
  SANDBOX_TRAP_STACK_OVERFLOW: 'Sandbox: the guest exhausted the call stack.',
  SANDBOX_OUTPUT_INVALID:
    'Sandbox: the guest output is not the expected encoding (e.g. not a UTF-8 JSON document).',
  // Trust / evidence
  TRUST_KEY_UNKNOWN: 'The signing key is not in the trust registry.',
  TRUST_KEY_REVOKED: 'The signing key was revoked before the signature.',
  TRUST_ROLE_MISSING: 'The key did not hold the required role at that height.',
  SIGNATURE_INVALID: 'A signature does not verify under the strict policy.',
  CHAIN_BROKEN: 'A hash link or Lamport clock in a chain does not hold.',
  TRUST_HISTORY_INVALID:
    'The trust registry history or snapshot does not verify (signature, hash link, authorization, anchor or state hash).',
  TUF_METADATA_INVALID:
    'TUF distribution refused: bad threshold signature, expired (freeze), rolled back, or a length/hash mismatch.',
  ARTIFACT_PROVENANCE_INVALID:
    'A Sigstore bundle or SLSA provenance does not verify or does not match the artifact, builder or source expected.',
  // Envelopes and keys (crypto)
  ENVELOPE_INVALID:
    'A signed envelope is malformed, not canonical JCS, of an unexpected type, short of its signature threshold, or over the size/depth limits.',
  KEY_INVALID:
    'A public key is malformed, non-canonical, of small order or outside the prime-order subgroup (strict Ed25519 key rules).',
  // Catch-all
  INTERNAL_ERROR: 'An unexpected error occurred; the kernel failed closed.',
} as const satisfies Record<ReasonCode, string>;

/** The registry entry of a code: its verdict and its meaning. */
export function reasonCodeInfo(code: ReasonCode): ReasonCodeInfo {
  return { verdict: verdictOf(code), meaning: REASON_CODE_MEANINGS[code] };
}
