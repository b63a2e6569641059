// DecisionRecord (`helm.decision.v1`): the guardian's signed verdict on one concrete tool call.
// Normative: docs/spec/decision.md. Every verdict (ALLOW, DENY, ESCALATE) is one of these, signed
// with `signEnvelope` by the guardian key. `decision_id` is content-derived:
// digest(canonicalBytes(body without `decision_id`)). A signed ALLOW decision is also the
// AuthorizedExecutionIntent the SafeExecutor verifies (docs/spec/intent.md): it carries the
// intent's expiry and approval grant, so one signature authorizes the execution.

import type { ReasonCode } from './reason-codes.js';
import type { Verdict } from './verdict.js';

export const DECISION_TYPE = 'helm.decision.v1';

/** The fixed, ordered stages of the guardian chain. Every stage always runs or is recorded as not reached. */
export const GATE_STAGES = [
  'frozen',
  'context',
  'identity',
  'egress',
  'threat',
  'delegation',
  'effect',
  'policy',
  'budget',
  'approval',
] as const;
export type GateStage = (typeof GATE_STAGES)[number];

export interface DecisionRecord {
  readonly type: typeof DECISION_TYPE;
  /** digest(JCS(body without decision_id)). */
  readonly decision_id: string;
  readonly verdict: Verdict;
  readonly reason_code: ReasonCode;
  /**
   * The stage that produced the verdict (`approval` for ALLOW and ESCALATE). Because the order is
   * fixed, every stage before it passed and every stage after it was not reached.
   */
  readonly decided_by: GateStage;
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  /** digest(JCS(args)). */
  readonly args_hash: string;
  /** Effect digest (docs/spec/effect.md); null only when the effect could not be constructed. */
  readonly effect_digest: string | null;
  /** digest of the composed P0/P1/P2 stack that was loaded (docs/spec/policy.md). */
  readonly policy_stack_hash: string;
  /** digest of the gate roster (ordered stages + per-gate configuration digests). */
  readonly gate_roster_hash: string;
  /** digest(JCS(request)) — binds the complete evaluated request including context. */
  readonly request_hash: string;
  /** Injected-clock time of the decision. */
  readonly decided_at_ms: number;
  /** Delegation session id presented with the call, if any. */
  readonly session_id: string | null;
  /** Budget reservation held for an ALLOW (committed or refunded by the executor). */
  readonly budget_reservation_id: string | null;
  /** ESCALATE: the approval challenge id; ALLOW after a ceremony: the grant's challenge id. */
  readonly approval_challenge_id: string | null;
  /** True when an emergency-override approval quorum was used: the decision must be reviewed. */
  readonly review_required: boolean;
  /**
   * ALLOW: end of the execution authorization (exclusive; valid while decided_at_ms <= now <
   * expires_at_ms). null for DENY and ESCALATE, which authorize nothing.
   */
  readonly expires_at_ms: number | null;
  /** ALLOW after a ceremony: the approval grant the executor must consume before running; else null. */
  readonly approval_grant_id: string | null;
}
