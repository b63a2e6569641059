// Approval ceremonies (docs/spec/approval.md). High-risk calls are held (ESCALATE) behind a
// guardian-signed challenge binding the call context (tenant, principal, authority, tool, effect,
// args), the P1 bundle hash, the P0 ceiling hash, the intent hash and the requirement digest. A
// challenge is reused only by a call with the identical binding (I-APPROVAL-1, I-APPROVAL-2).
// Approvers sign `helm.approval.v1` statements with keys authorized for the challenge's role
// (checked through the KeyAuthorization port; the guardian's own execution key is never
// accepted). Quorum counts distinct, verified approvers — distinct by claimed identity, key id and
// key rotation lineage; the timelock and expiry come from the
// injected clock; emergency overrides need a stricter quorum and are flagged for review. A grant
// is single-use: `consumeGrant` re-checks every binding and marks it consumed atomically when
// execution starts. A challenge signed by this guardian in another process can be restored from
// its envelope (`restore`, own signature only) and closed (`close`: denied, expired or consumed), so
// a runtime rebuilds the ceremony state from durable records without trusting them beyond that.
import {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_REQUIREMENT_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  type ApprovalStatement,
} from '@helm/contracts/approval';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ApprovalRequirement } from '@helm/contracts/policy';
import { canonicalDigest } from '@helm/crypto/digests';
import type { Signer } from '@helm/crypto/ed25519';
import { fromBase64Url } from '@helm/crypto/encoding';
import { type EnvelopeBody, openVerifiedEnvelope } from '@helm/crypto/envelope';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { digest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { GuardianError } from './errors.js';
import { validateChallenge, validateStatement } from './internal/schemas.js';
import type { Clock, EventSink, KeyAuthorization } from './ports.js';

export interface RateLimit {
  readonly max: number;
  readonly window_ms: number;
}

export interface ApprovalOptions {
  readonly clock: Clock;
  /** The guardian signer (signs challenges; its key can never approve). */
  readonly signer: Signer;
  readonly keyAuthorization: KeyAuthorization;
  /** Approvals one approver key may record per window. */
  readonly perApprover: RateLimit;
  /** Challenges one principal may open per window. */
  readonly perPrincipal: RateLimit;
  readonly sink?: EventSink;
}

export type RequirementWithRule = ApprovalRequirement & { readonly rule_id: string };

export interface ChallengeInput {
  /** The requesting principal (for a delegated call: the delegate). */
  readonly principal: string;
  /** The principal whose authority the policy evaluated (the delegator of a delegated call). */
  readonly authority: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  readonly policy_bundle_hash: string;
  readonly p0_ceiling_hash: string;
  readonly requirement: RequirementWithRule;
}

/** One use of a grant, as the consumer sees it: every field must equal the challenge's. */
export interface GrantUse {
  readonly grant_id: string;
  readonly tenant: string | null;
  readonly principal: string;
  readonly authority: string;
  readonly tool: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  /** requirementDigest of the requirement in force for this use. */
  readonly requirement_digest: string;
  /** The P1 bundle hash and P0 hash in force now. */
  readonly policy_bundle_hash: string;
  readonly p0_ceiling_hash: string;
}

/** The challenge fields a grant use must match, in the order they are checked. */
const USE_BINDING = [
  'tenant',
  'principal',
  'authority',
  'tool',
  'effect_digest',
  'args_hash',
  'requirement_digest',
  'policy_bundle_hash',
  'p0_ceiling_hash',
] as const;

export interface ApprovalStatus {
  readonly challenge_id: string;
  readonly approvals: number;
  readonly emergency_approvals: number;
  readonly quorum: number;
  readonly emergency_quorum: number | null;
}

export type GrantCheck =
  | {
      readonly state: 'granted';
      readonly grant_id: string;
      readonly emergency: boolean;
      readonly challenge: ApprovalChallenge;
    }
  | { readonly state: 'pending'; readonly challenge: ApprovalChallenge; readonly envelope: SignedEnvelope }
  | {
      readonly state: 'denied';
      readonly code: 'APPROVAL_TIMEOUT' | 'APPROVAL_RATE_LIMITED' | 'APPROVAL_INVALID';
    };

interface ChallengeState {
  readonly challenge: ApprovalChallenge;
  readonly envelope: SignedEnvelope;
  readonly approvers: Set<string>;
  readonly keys: Set<string>;
  /** Rotation lineages that approved: a key and its successors are one approver. */
  readonly lineages: Set<string>;
  approvals: number;
  emergencyApprovals: number;
  consumed: boolean;
  closed: boolean;
}

/** A challenge as opened or restored: no approvals yet, neither consumed nor closed. */
function openState(challenge: ApprovalChallenge, envelope: SignedEnvelope): ChallengeState {
  return {
    challenge,
    envelope,
    approvers: new Set(),
    keys: new Set(),
    lineages: new Set(),
    approvals: 0,
    emergencyApprovals: 0,
    consumed: false,
    closed: false,
  };
}

/** An append-only record of every ceremony step. */
export interface ApprovalLogEntry {
  readonly step:
    | 'challenge.opened'
    | 'approval.recorded'
    | 'approval.rejected'
    | 'grant.consumed'
    | 'challenge.expired'
    | 'challenge.restored'
    | 'challenge.closed';
  readonly challenge_id: string;
  readonly at_ms: number;
  readonly detail: string;
}

/** intent_hash = digest(JCS({args_hash, effect_digest})). */
export function intentHash(effectDigest: string, argsHash: string): string {
  return digest(canonicalBytes({ args_hash: argsHash, effect_digest: effectDigest }));
}

/**
 * requirement_digest = digest(JCS({type: "helm.approval.requirement.v1", rule_id, role, quorum,
 * emergency_quorum (null when the requirement allows none), timelock_ms, ttl_ms})).
 */
export function requirementDigest(r: RequirementWithRule): string {
  return canonicalDigest({
    type: APPROVAL_REQUIREMENT_TYPE,
    rule_id: r.rule_id,
    role: r.role,
    quorum: r.quorum,
    emergency_quorum: r.emergency_quorum ?? null,
    timelock_ms: r.timelock_ms,
    ttl_ms: r.ttl_ms,
  });
}

/** The requirement a challenge was opened under, recovered from its own fields. */
function requirementOf(c: ApprovalChallenge): RequirementWithRule {
  return {
    rule_id: c.rule_id,
    role: c.role,
    quorum: c.quorum,
    ...(c.emergency_quorum === null ? {} : { emergency_quorum: c.emergency_quorum }),
    timelock_ms: c.not_before_ms - c.created_at_ms,
    ttl_ms: c.expires_at_ms - c.created_at_ms,
  };
}

/** What a challenge binds besides its id and times: identical bindings share a challenge. */
function bindingKey(
  c: Omit<ApprovalChallenge, 'challenge_id' | 'created_at_ms' | 'not_before_ms' | 'expires_at_ms'>,
): string {
  return canonicalDigest({
    type: APPROVAL_CHALLENGE_TYPE,
    principal: c.principal,
    authority: c.authority,
    tenant: c.tenant,
    tool: c.tool,
    action: c.action,
    resource: c.resource,
    effect_digest: c.effect_digest,
    args_hash: c.args_hash,
    intent_hash: c.intent_hash,
    policy_bundle_hash: c.policy_bundle_hash,
    p0_ceiling_hash: c.p0_ceiling_hash,
    requirement_digest: c.requirement_digest,
    rule_id: c.rule_id,
    role: c.role,
    quorum: c.quorum,
    emergency_quorum: c.emergency_quorum,
  });
}

/** Why a challenge is closed: an approver denied it, it expired unused, or its grant was consumed. */
export type ChallengeClosure = 'denied' | 'expired' | 'consumed';

function withinWindow(times: number[], now: number, limit: RateLimit): boolean {
  while (times.length > 0 && times[0]! <= now - limit.window_ms) times.shift();
  return times.length < limit.max;
}

export class ApprovalCeremonies {
  private readonly options: ApprovalOptions;
  private readonly challenges = new Map<string, ChallengeState>();
  /** Latest challenge per binding: digest(JCS(challenge body without id and times)). */
  private readonly byBinding = new Map<string, string>();
  private readonly approverTimes = new Map<string, number[]>();
  private readonly principalTimes = new Map<string, number[]>();
  private readonly entries: ApprovalLogEntry[] = [];

  constructor(options: ApprovalOptions) {
    for (const limit of [options.perApprover, options.perPrincipal]) {
      if (
        !limit ||
        !Number.isSafeInteger(limit.max) ||
        limit.max < 1 ||
        !Number.isSafeInteger(limit.window_ms) ||
        limit.window_ms < 1
      ) {
        throw new GuardianError(
          'CONFIG_INVALID',
          'approval rate limits need positive integer max and window_ms',
        );
      }
    }
    this.options = options;
  }

  /** Every ceremony step so far, oldest first. */
  log(): readonly ApprovalLogEntry[] {
    return this.entries;
  }

  private record(
    step: ApprovalLogEntry['step'],
    challengeId: string,
    detail: string,
    payload: Record<string, unknown> = {},
  ): void {
    const at_ms = this.options.clock.now();
    this.entries.push({ step, challenge_id: challengeId, at_ms, detail });
    this.options.sink?.emit({
      kind: step === 'challenge.opened' || step === 'approval.recorded' ? 'ATTESTATION' : 'TRUST_EVENT',
      event: step,
      subject: challengeId,
      at_ms,
      payload: { detail, ...payload },
    });
  }

  getChallenge(challengeId: string): ApprovalChallenge | undefined {
    return this.challenges.get(challengeId)?.challenge;
  }

  status(challengeId: string): ApprovalStatus | undefined {
    const s = this.challenges.get(challengeId);
    if (!s) return undefined;
    return {
      challenge_id: challengeId,
      approvals: s.approvals,
      emergency_approvals: s.emergencyApprovals,
      quorum: s.challenge.quorum,
      emergency_quorum: s.challenge.emergency_quorum,
    };
  }

  /**
   * The approval stage of the gate chain for one call that policy marks high-risk: a usable
   * grant, a (new or existing) pending challenge, or a denial.
   */
  check(input: ChallengeInput): GrantCheck {
    const now = this.options.clock.now();
    const r = input.requirement;
    // Everything the challenge binds except its id and times: a call reuses a challenge only when
    // all of it is identical (another tenant, principal, authority, tool, effect, args, policy or
    // requirement opens a challenge of its own).
    const binding = {
      type: APPROVAL_CHALLENGE_TYPE as typeof APPROVAL_CHALLENGE_TYPE,
      principal: input.principal,
      authority: input.authority,
      tenant: input.tenant,
      tool: input.tool,
      action: input.action,
      resource: input.resource,
      effect_digest: input.effect_digest,
      args_hash: input.args_hash,
      intent_hash: intentHash(input.effect_digest, input.args_hash),
      policy_bundle_hash: input.policy_bundle_hash,
      p0_ceiling_hash: input.p0_ceiling_hash,
      requirement_digest: requirementDigest(r),
      rule_id: r.rule_id,
      role: r.role,
      quorum: r.quorum,
      emergency_quorum: r.emergency_quorum ?? null,
    };
    const key = bindingKey(binding);
    const existingId = this.byBinding.get(key);
    const existing = existingId === undefined ? undefined : this.challenges.get(existingId);
    if (existing && !existing.consumed && !existing.closed) {
      const c = existing.challenge;
      if (now >= c.expires_at_ms) {
        existing.closed = true;
        this.record('challenge.expired', c.challenge_id, 'expired before use');
        return { state: 'denied', code: 'APPROVAL_TIMEOUT' };
      }
      if (c.emergency_quorum !== null && existing.emergencyApprovals >= c.emergency_quorum) {
        return { state: 'granted', grant_id: c.challenge_id, emergency: true, challenge: c };
      }
      if (existing.approvals >= c.quorum && now >= c.not_before_ms) {
        return { state: 'granted', grant_id: c.challenge_id, emergency: false, challenge: c };
      }
      return { state: 'pending', challenge: c, envelope: existing.envelope };
    }
    const body = {
      ...binding,
      created_at_ms: now,
      not_before_ms: now + r.timelock_ms,
      expires_at_ms: now + r.ttl_ms,
    };
    const challenge: ApprovalChallenge = { ...body, challenge_id: digest(canonicalBytes(body)) };
    // Ids are content-derived: the same binding closed (denied, expired, consumed) in this very
    // millisecond would be re-opened under its old id, with its history lost. Refuse instead.
    if (this.challenges.has(challenge.challenge_id)) return { state: 'denied', code: 'APPROVAL_INVALID' };
    const times = this.principalTimes.get(input.principal) ?? [];
    this.principalTimes.set(input.principal, times);
    if (!withinWindow(times, now, this.options.perPrincipal))
      return { state: 'denied', code: 'APPROVAL_RATE_LIMITED' };
    times.push(now);
    const envelope = signEnvelope(challenge as unknown as EnvelopeBody, [this.options.signer]);
    this.challenges.set(challenge.challenge_id, openState(challenge, envelope));
    this.byBinding.set(key, challenge.challenge_id);
    this.record('challenge.opened', challenge.challenge_id, `rule ${r.rule_id}`, { envelope });
    return { state: 'pending', challenge, envelope };
  }

  /** The guardian-signed envelope of a challenge this ceremony holds. */
  envelope(challengeId: string): SignedEnvelope | undefined {
    return this.challenges.get(challengeId)?.envelope;
  }

  /**
   * Take over a challenge this guardian opened earlier (another process, a previous run), from its
   * envelope as `check` signed it: exactly one signature, by this guardian's own key, over a
   * schema-valid challenge whose id and requirement digest recompute. The challenge is held open
   * with no approvals (re-submit its approvals, then `close` it if it was closed); it serves its
   * binding unless a later challenge for the same binding is held, and counts against its
   * principal's rate limit at its creation time. A challenge already held is returned unchanged.
   * Throws GuardianError APPROVAL_INVALID for anything else.
   */
  restore(envelope: SignedEnvelope): ApprovalChallenge {
    const signer = this.options.signer;
    if (
      envelope?.type !== APPROVAL_CHALLENGE_TYPE ||
      !Array.isArray(envelope.signatures) ||
      envelope.signatures.length !== 1 ||
      envelope.signatures[0]?.keyid !== signer.keyId
    ) {
      throw new GuardianError('APPROVAL_INVALID', 'not a challenge signed by this guardian');
    }
    let challenge: ApprovalChallenge;
    try {
      challenge = openVerifiedEnvelope(envelope, APPROVAL_CHALLENGE_TYPE, (id) =>
        id === signer.keyId ? signer.publicKey : undefined,
      ).body as unknown as ApprovalChallenge;
    } catch {
      throw new GuardianError('APPROVAL_INVALID', 'challenge signature does not verify');
    }
    if (!validateChallenge(challenge)) throw new GuardianError('APPROVAL_INVALID', 'malformed challenge');
    const { challenge_id: id, ...body } = challenge;
    if (
      id !== digest(canonicalBytes(body)) ||
      challenge.intent_hash !== intentHash(challenge.effect_digest, challenge.args_hash) ||
      challenge.requirement_digest !== requirementDigest(requirementOf(challenge)) ||
      challenge.not_before_ms < challenge.created_at_ms ||
      challenge.expires_at_ms < challenge.created_at_ms
    ) {
      throw new GuardianError('APPROVAL_INVALID', 'challenge fields are inconsistent');
    }
    const held = this.challenges.get(id);
    if (held) return held.challenge;
    this.challenges.set(id, openState(challenge, envelope));
    const key = bindingKey(challenge);
    const current = this.byBinding.get(key);
    const currentAt =
      current === undefined ? undefined : this.challenges.get(current)?.challenge.created_at_ms;
    if (currentAt === undefined || currentAt <= challenge.created_at_ms) this.byBinding.set(key, id);
    const times = this.principalTimes.get(challenge.principal) ?? [];
    this.principalTimes.set(challenge.principal, times);
    let at = times.length;
    while (at > 0 && (times[at - 1] as number) > challenge.created_at_ms) at--;
    times.splice(at, 0, challenge.created_at_ms);
    this.record('challenge.restored', id, `rule ${challenge.rule_id}`);
    return challenge;
  }

  /**
   * Close a held challenge: `denied` (an authorized approver refused it) or `expired` — no grant
   * from it is ever usable, and the next call with its binding opens a new challenge — or
   * `consumed` (its grant was used, e.g. by another process). False if the challenge is unknown or
   * already closed that way.
   */
  close(challengeId: string, why: ChallengeClosure): boolean {
    const state = typeof challengeId === 'string' ? this.challenges.get(challengeId) : undefined;
    if (!state) return false;
    if (why === 'consumed') {
      if (state.consumed) return false;
      state.consumed = true;
    } else if (why === 'denied' || why === 'expired') {
      if (state.closed) return false;
      state.closed = true;
    } else return false;
    this.record('challenge.closed', challengeId, why);
    return true;
  }

  private reject(
    code: 'APPROVAL_INVALID' | 'APPROVAL_TIMEOUT' | 'APPROVAL_RATE_LIMITED',
    challengeId: string,
    why: string,
  ): GuardianError {
    this.record('approval.rejected', challengeId, `${code}: ${why}`);
    return new GuardianError(code, why);
  }

  /** Verify and record one approver's signed statement. Throws GuardianError on any defect. */
  submit(envelope: SignedEnvelope): ApprovalStatus {
    if (
      envelope?.type !== APPROVAL_TYPE ||
      !Array.isArray(envelope.signatures) ||
      envelope.signatures.length !== 1
    ) {
      throw this.reject('APPROVAL_INVALID', '-', `expected one ${APPROVAL_TYPE} signature`);
    }
    // Locate the challenge from the (not yet trusted) payload; everything is re-checked after verification.
    let claimed: unknown;
    try {
      claimed = JSON.parse(new TextDecoder().decode(fromBase64Url(envelope.payload) ?? new Uint8Array()));
    } catch {
      throw this.reject('APPROVAL_INVALID', '-', 'payload is not JSON');
    }
    const claimedId = (claimed as { challenge_id?: unknown } | null)?.challenge_id;
    const state = typeof claimedId === 'string' ? this.challenges.get(claimedId) : undefined;
    if (!state) throw this.reject('APPROVAL_INVALID', '-', 'unknown challenge');
    const c = state.challenge;
    const { statement, keyId, lineage } = this.verifiedStatement(envelope, c);
    const now = this.options.clock.now();
    if (state.consumed || state.closed)
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'challenge closed');
    if (now >= c.expires_at_ms) throw this.reject('APPROVAL_TIMEOUT', c.challenge_id, 'challenge expired');
    if (statement.emergency && c.emergency_quorum === null) {
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'rule allows no emergency override');
    }
    // One approver per identity, per key and per rotation lineage: a rotated key's successor is
    // the same approver, not a new one (I-GOVERN-2).
    if (state.approvers.has(statement.approver) || state.keys.has(keyId) || state.lineages.has(lineage)) {
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'duplicate approver');
    }
    // Rate-limited per lineage too, so a rotation does not reset an approver's window.
    const times = this.approverTimes.get(lineage) ?? [];
    this.approverTimes.set(lineage, times);
    if (!withinWindow(times, now, this.options.perApprover)) {
      throw this.reject('APPROVAL_RATE_LIMITED', c.challenge_id, 'approver rate limit');
    }
    times.push(now);
    state.approvers.add(statement.approver);
    state.keys.add(keyId);
    state.lineages.add(lineage);
    state.approvals++;
    if (statement.emergency) state.emergencyApprovals++;
    this.record(
      'approval.recorded',
      c.challenge_id,
      `${statement.approver}${statement.emergency ? ' (emergency)' : ''}`,
      {
        envelope,
      },
    );
    return this.status(c.challenge_id)!;
  }

  /**
   * The approver's key (authorized for the challenge's role, not the execution key), its signature
   * and the statement's binding to the challenge. Throws GuardianError on any defect.
   */
  private verifiedStatement(
    envelope: SignedEnvelope,
    c: ApprovalChallenge,
  ): { statement: ApprovalStatement; keyId: string; lineage: string } {
    const keyId = envelope.signatures[0]!.keyid;
    if (keyId === this.options.signer.keyId)
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'execution key cannot approve');
    const authorized = this.options.keyAuthorization(keyId, c.role);
    if (!authorized)
      throw this.reject('APPROVAL_INVALID', c.challenge_id, `key not authorized for role ${c.role}`);
    const publicKey = authorized instanceof Uint8Array ? authorized : authorized.publicKey;
    const lineage = authorized instanceof Uint8Array ? keyId : authorized.lineage;
    if (!(publicKey instanceof Uint8Array) || typeof lineage !== 'string' || lineage === '')
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'key authorization answer is malformed');
    let statement: ApprovalStatement;
    try {
      statement = openVerifiedEnvelope(envelope, APPROVAL_TYPE, (id) =>
        id === keyId ? publicKey : undefined,
      ).body as unknown as ApprovalStatement;
    } catch {
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'signature does not verify');
    }
    if (!validateStatement(statement))
      throw this.reject('APPROVAL_INVALID', c.challenge_id, 'malformed statement');
    if (
      statement.intent_hash !== c.intent_hash ||
      statement.policy_bundle_hash !== c.policy_bundle_hash ||
      statement.p0_ceiling_hash !== c.p0_ceiling_hash
    ) {
      throw this.reject(
        'APPROVAL_INVALID',
        c.challenge_id,
        'statement is bound to a different intent or policy',
      );
    }
    return { statement, keyId, lineage };
  }

  /**
   * Consume a grant atomically when execution starts. The grant must exist, be unused, be bound to
   * exactly this use — tenant, principal, authority, tool, effect digest, args hash, requirement
   * digest, P1 bundle hash and P0 hash — still be valid (quorum and timelock, or the emergency
   * quorum; not expired). A refused use does not consume the grant.
   */
  consumeGrant(use: GrantUse): void {
    const grantId = typeof use?.grant_id === 'string' ? use.grant_id : '';
    const state = this.challenges.get(grantId);
    if (!state) throw new GuardianError('APPROVAL_INVALID', 'unknown grant');
    const c = state.challenge;
    if (state.consumed) throw this.reject('APPROVAL_INVALID', grantId, 'grant already consumed');
    for (const field of USE_BINDING) {
      if (use[field] !== c[field])
        throw this.reject('APPROVAL_INVALID', grantId, `grant is bound to another ${field}`);
    }
    if (
      c.intent_hash !== intentHash(use.effect_digest, use.args_hash) ||
      c.requirement_digest !== requirementDigest(requirementOf(c))
    ) {
      throw this.reject('APPROVAL_INVALID', grantId, 'grant binding is inconsistent');
    }
    const now = this.options.clock.now();
    if (state.closed || now >= c.expires_at_ms)
      throw this.reject('APPROVAL_TIMEOUT', grantId, 'grant expired');
    const emergency = c.emergency_quorum !== null && state.emergencyApprovals >= c.emergency_quorum;
    if (!emergency && !(state.approvals >= c.quorum && now >= c.not_before_ms)) {
      throw this.reject('APPROVAL_INVALID', grantId, 'quorum or timelock not satisfied');
    }
    state.consumed = true;
    this.record('grant.consumed', grantId, emergency ? 'emergency override (review required)' : 'quorum');
  }
}
