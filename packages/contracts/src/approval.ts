// Approval ceremonies (normative: docs/spec/approval.md). The guardian signs a challenge
// (`helm.approval.challenge.v1`) binding the call context (tenant, principal, authority, tool,
// effect, args), the P1 bundle hash, the P0 ceiling hash, the intent hash and the digest of the
// approval requirement; approvers sign an approval (`helm.approval.v1`, a different signature
// domain than any execution envelope) with keys authorized for the approver role.

export const APPROVAL_CHALLENGE_TYPE = 'helm.approval.challenge.v1';
export const APPROVAL_TYPE = 'helm.approval.v1';
/**
 * Type tag of the requirement digest input: `requirement_digest = digest(JCS({type, rule_id,
 * role, quorum, emergency_quorum (null if none), timelock_ms, ttl_ms}))`.
 */
export const APPROVAL_REQUIREMENT_TYPE = 'helm.approval.requirement.v1';

export interface ApprovalChallenge {
  readonly type: typeof APPROVAL_CHALLENGE_TYPE;
  /** digest(JCS(body without challenge_id)). */
  readonly challenge_id: string;
  /** The requesting principal (for a delegated call: the delegate). */
  readonly principal: string;
  /** The principal whose authority the policy evaluated: the delegator of a delegated call, else `principal`. */
  readonly authority: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  /** digest(JCS({args_hash, effect_digest})). */
  readonly intent_hash: string;
  /** Hash of the P1 bundles in force. */
  readonly policy_bundle_hash: string;
  /** Hash of the P0 ceiling in force. */
  readonly p0_ceiling_hash: string;
  /** digest(JCS({type: APPROVAL_REQUIREMENT_TYPE, rule_id, role, quorum, emergency_quorum, timelock_ms, ttl_ms})). */
  readonly requirement_digest: string;
  /** The policy rule that required approval. */
  readonly rule_id: string;
  readonly role: string;
  readonly quorum: number;
  /** null when the rule allows no emergency override. */
  readonly emergency_quorum: number | null;
  readonly created_at_ms: number;
  /** Timelock: no grant activates before this (guardian clock; never client-declared). */
  readonly not_before_ms: number;
  readonly expires_at_ms: number;
}

export interface ApprovalStatement {
  readonly type: typeof APPROVAL_TYPE;
  readonly challenge_id: string;
  readonly intent_hash: string;
  readonly policy_bundle_hash: string;
  readonly p0_ceiling_hash: string;
  /** The approver's identity (one identity counts once toward quorum). */
  readonly approver: string;
  /** Emergency override approval (counts only toward the emergency quorum). */
  readonly emergency: boolean;
}
