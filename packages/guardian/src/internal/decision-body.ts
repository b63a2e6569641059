// The decision body (docs/spec/decision.md §Body) from an explicit record of how far the chain got
// and the verdict. One builder for every verdict: which fields are set is read off the record.
import { DECISION_TYPE, type DecisionRecord, type GateStage } from '@helm/contracts/decision';
import type { Effect } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { DecisionRequest } from '../request.js';
import { isWellFormed } from './resource.js';
import { EMPTY_DIGEST, type ParsedCall, type RequestHashes } from './stages.js';

export type DecisionBody = Omit<DecisionRecord, 'decision_id'>;

export interface Verdict {
  readonly verdict: 'ALLOW' | 'DENY' | 'ESCALATE';
  readonly code: ReasonCode;
  /** `decided_by`. */
  readonly stage: GateStage;
}

export const deny = (code: ReasonCode, stage: GateStage): Verdict => ({ verdict: 'DENY', code, stage });

/** An ALLOW decision that names an approval grant, as issued (the grant may be spent only with it). */
export interface IssuedGrant {
  readonly grant_id: string;
  readonly authority: string;
  readonly requirement_digest: string;
  readonly policy_stack_hash: string;
}

/**
 * How far the chain got for one call. `Guardian#decide` creates it and is its only writer: each
 * field is set once, when the stage (or commit step) that establishes it has run, and never reset.
 */
export interface ChainRecord {
  /** The running stage: `decided_by` if it throws (INTERNAL_ERROR). */
  stage: GateStage;
  /** Hashed before stage 0. */
  hashes: RequestHashes;
  /** Stage `context` parsed the request: the effect, bound by every later record. */
  call: ParsedCall | null;
  /** Stage `delegation` accepted a presented session. */
  sessionId: string | null;
  /** Commit: the reservation, kept only by an ALLOW (any other verdict refunded it). */
  reservation: string | null;
  /** Commit, approval ceremony: the challenge of an ESCALATE, or the one whose grant was found. */
  challengeId: string | null;
  /** Commit, approval ceremony: the signed challenge an ESCALATE hands to approvers. */
  challenge: SignedEnvelope | null;
  /** Commit, approval ceremony: the grant found (`review` = emergency quorum used). */
  grant: { readonly review: boolean; readonly issued: IssuedGrant } | null;
}

export function startRecord(): ChainRecord {
  return {
    stage: 'frozen',
    hashes: { argsHash: null, requestHash: EMPTY_DIGEST },
    call: null,
    sessionId: null,
    reservation: null,
    challengeId: null,
    challenge: null,
    grant: null,
  };
}

/** The guardian-wide values every body binds. */
export interface BodyContext {
  readonly now: number;
  readonly intentTtlMs: number;
  readonly gateRosterHash: string;
  readonly policyStackHash: string;
}

/** A decided call: the body to sign and what `evaluate` returns or remembers beside it. */
export interface Decided {
  readonly body: DecisionBody;
  readonly effect: Effect | null;
  readonly challenge: SignedEnvelope | null;
  /** ALLOW after a ceremony: what the decision's grant is bound to. */
  readonly issued: IssuedGrant | null;
}

/** A signable string (the record must canonicalize even when the request could not). */
function str(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 && isWellFormed(value) ? value : fallback;
}

export function decisionBody(
  req: Partial<DecisionRequest>,
  reached: ChainRecord,
  verdict: Verdict,
  ctx: BodyContext,
): Decided {
  // An ALLOW without an effect cannot be bound to anything: fail closed. (Unreachable: only the
  // commit phase allows, and it runs on a parsed call.)
  const v =
    verdict.verdict === 'ALLOW' && reached.call === null ? deny('INTERNAL_ERROR', verdict.stage) : verdict;
  const allow = v.verdict === 'ALLOW';
  const grant = reached.grant;
  // Keys in canonical (sorted) order: canonicalization then needs no sort.
  const body: DecisionBody = {
    action: str(req.action, 'invalid'),
    approval_challenge_id: reached.challengeId,
    approval_grant_id: allow && grant !== null ? grant.issued.grant_id : null,
    args_hash: reached.hashes.argsHash ?? EMPTY_DIGEST,
    budget_reservation_id: allow ? reached.reservation : null,
    decided_at_ms: ctx.now,
    decided_by: v.stage,
    effect_digest: reached.call?.effectDigest ?? null,
    expires_at_ms: allow ? ctx.now + ctx.intentTtlMs : null,
    gate_roster_hash: ctx.gateRosterHash,
    policy_stack_hash: ctx.policyStackHash,
    principal: str(req.principal, 'invalid'),
    reason_code: v.code,
    request_hash: reached.hashes.requestHash,
    resource: str(req.resource, ''),
    review_required: grant?.review ?? false,
    session_id: reached.sessionId,
    tenant: typeof req.tenant === 'string' && isWellFormed(req.tenant) ? req.tenant : null,
    tool: str(req.tool, 'invalid'),
    type: DECISION_TYPE,
    verdict: v.verdict,
  };
  return {
    body,
    effect: reached.call?.effect ?? null,
    challenge: reached.challenge,
    issued: allow ? (grant?.issued ?? null) : null,
  };
}
