// The decision request (docs/spec/decision.md §Request): one concrete call plus its context.
import type { DelegationPresentation } from '@helm/contracts/delegation';
import type { RiskTier } from '@helm/contracts/effect';
import type { PolicyScalar } from '@helm/contracts/policy';
import type { Destination } from './egress.js';
import type { UntrustedInput } from './threat.js';

/**
 * The call's context. The fields a gate establishes authority from — `environment_fingerprint`
 * (stage 1), `credential_id` (stage 2) and `delegation` (stage 5) — are checked by that gate, not by
 * the request schema: absent or malformed, they are that gate's denial (GATE_CONTEXT_MISMATCH,
 * GATE_IDENTITY_ISOLATION, DELEGATION_INVALID), never ARGS_MALFORMED.
 */
export interface DecisionContext {
  /** Fingerprint of the runtime environment, compared with the one bound at construction. */
  readonly environment_fingerprint?: string;
  /** The credential the caller authenticated with (bound to exactly one principal). */
  readonly credential_id?: string;
  /** Where the call sends data, if anywhere. */
  readonly destination?: Destination;
  /** Free text that reached the agent, each with its source channel and trust level. */
  readonly inputs?: readonly UntrustedInput[];
  /** Delegation session presentation (the principal acts for a delegator). */
  readonly delegation?: DelegationPresentation;
  /** Context attributes policy rules may test (declared in the policy vocabulary). */
  readonly attributes?: Readonly<Record<string, PolicyScalar>>;
  /** Proof kinds (PRG) present for this call, e.g. `ticket`, `mfa`. */
  readonly proofs?: readonly string[];
}

export interface DecisionRequest {
  readonly principal: string;
  readonly tenant?: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  /** Effect class from the tool descriptor, e.g. `fs.write`. */
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  /** The exact arguments (strict JSON). */
  readonly args: unknown;
  /** digest(canonicalBytes(args)); must match. */
  readonly args_hash: string;
  /** Budget units this call consumes (from the tool descriptor; default 1). */
  readonly cost?: number;
  readonly context: DecisionContext;
}

export { decisionRequestSchema } from './internal/request-schema.js';

/** The precompiled validator of decisionRequestSchema (src/internal/generated/validators.ts). */
export { validateRequest } from './internal/schemas.js';
