// Gate 5 — delegation sessions (docs/spec/delegation.md). A session starts with no capability;
// each grant is explicit and proven ⊆ the delegator's effective authority (P0 ∩ P1 ∩ P2) at
// creation, and re-proven at use whenever the policy stack changed. TTL is mandatory and capped
// by P0; PKCE S256 binds the presenter to the creator; the one-time nonce is consumed only after
// every other check of the call passed (the guardian calls `consumeNonce` last).
import {
  DELEGATION_TYPE,
  type DelegationGrant,
  type DelegationPresentation,
  type DelegationSession,
} from '@helm/contracts/delegation';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { PolicyMatch, PolicyRule } from '@helm/contracts/policy';
import type { Signer } from '@helm/crypto/ed25519';
import { toBase64Url } from '@helm/crypto/encoding';
import type { EnvelopeBody } from '@helm/crypto/envelope';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { digest, sha256 } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { GuardianError } from './errors.js';
import { covers, finiteValues, matches, mayOverlap, neverMatchReason } from './internal/match.js';
import { resourceMatchDefect } from './internal/resource.js';
import { describeErrors, validateGrant, validatePresentation, validateSession } from './internal/schemas.js';
import type { NonceStore } from './nonce-store.js';
import { effectTypeForbidden, type PolicyStack, type ScopeSubject } from './policy.js';
import type { Clock, EventSink } from './ports.js';

export interface CreateSessionInput {
  readonly delegator: string;
  readonly delegate: string;
  readonly tenant?: string | null;
  readonly grants: readonly DelegationGrant[];
  readonly ttl_ms: number;
  /** base64url(SHA-256(code_verifier)). */
  readonly code_challenge: string;
  readonly mfa_verified: boolean;
}

export type DelegationCheck =
  | { readonly ok: true; readonly session: DelegationSession; readonly nonceKey: string }
  | {
      readonly ok: false;
      readonly code: 'DELEGATION_INVALID' | 'DELEGATION_SCOPE_VIOLATION';
      readonly why: string;
    };

interface SessionState {
  readonly session: DelegationSession;
  revoked: boolean;
  expiryRecorded: boolean;
  /** Stack hashes against which the grants were (re)proven. */
  readonly provenAgainst: Set<string>;
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** PKCE S256: base64url(SHA-256(ASCII(verifier))) without padding. */
export function pkceChallenge(verifier: string): string {
  return toBase64Url(sha256(new TextEncoder().encode(verifier)));
}

const GRANT_FIELDS = ['tool', 'action', 'resource', 'effect_type'] as const;

function grantMatches(grant: DelegationGrant, s: ScopeSubject): boolean {
  for (const f of GRANT_FIELDS) {
    const m = grant[f];
    if (m !== undefined && !matches(m, s[f])) return false;
  }
  return true;
}

/** Split a grant with a finite tool set into one grant per tool. */
function perTool(grant: DelegationGrant): DelegationGrant[] {
  const tools = finiteValues(grant.tool) ?? [];
  return tools
    .filter((t) => matches(grant.tool, t))
    .map((t): DelegationGrant => ({ ...grant, tool: { eq: t } }));
}

function appliesTo(m: PolicyMatch | undefined, value: string | null): boolean {
  return m === undefined || matches(m, value);
}

/**
 * Sound (conservative) proof that a grant ⊆ the delegator's effective authority: P0 forbids none
 * of its effect types; for P1 and every overlay allowlist some unconditional allow rule applying
 * to the delegator covers it on every attribute; no deny rule applying to the delegator overlaps it.
 */
export function grantWithinAuthority(
  stack: PolicyStack,
  delegator: string,
  tenant: string | null,
  grant: DelegationGrant,
): string | null {
  for (const f of stack.p0.forbidden_effect_types) {
    if (mayOverlap(grant.effect_type, { eq: f }) || mayOverlap(grant.effect_type, { prefix: `${f}.` })) {
      return `grant may reach P0-forbidden effect type ${f}`;
    }
  }
  const et = finiteValues(grant.effect_type ?? {});
  if (et?.some((v) => typeof v === 'string' && effectTypeForbidden(stack.p0.forbidden_effect_types, v))) {
    return 'grant names a P0-forbidden effect type';
  }
  const { p1, overlays } = stack.allowRules();
  for (const single of perTool(grant)) {
    const coveredBy = (rules: readonly PolicyRule[]): boolean =>
      rules.some((r) => {
        const w = r.when;
        if (w.args !== undefined || w.context !== undefined || w.risk_tier !== undefined) return false;
        if (!appliesTo(w.principal, delegator) || !appliesTo(w.tenant, tenant)) return false;
        return GRANT_FIELDS.every((f) => covers(w[f], single[f]));
      });
    if (!coveredBy(p1)) return `no P1 allow rule of ${delegator} covers tool ${String(single.tool.eq)}`;
    for (const rules of overlays) {
      if (rules.length > 0 && !coveredBy(rules)) return 'a P2 overlay allowlist does not cover the grant';
    }
  }
  for (const d of stack.denyRules()) {
    const w = d.when;
    if (!appliesTo(w.principal, delegator) || !appliesTo(w.tenant, tenant)) continue;
    if (GRANT_FIELDS.every((f) => mayOverlap(w[f], grant[f]))) return `deny rule ${d.id} overlaps the grant`;
  }
  return null;
}

const bad = (why: string): GuardianError => new GuardianError('DELEGATION_INVALID', why);

/** The checks every grant passes at creation and restore: its shape, a finite tool set, can match. */
function checkGrantShape(grant: DelegationGrant): void {
  if (!validateGrant(grant as unknown)) throw bad(`grant ${describeErrors(validateGrant.errors)}`);
  if (finiteValues(grant.tool) === undefined) throw bad('grant.tool must be eq or in (a finite set)');
  for (const f of GRANT_FIELDS) {
    const m = grant[f];
    const reason = m === undefined ? null : neverMatchReason(m);
    if (reason !== null) throw bad(`grant.${f} can never match (${reason})`);
  }
  const resourceReason = grant.resource === undefined ? null : resourceMatchDefect(grant.resource);
  if (resourceReason !== null) throw bad(`grant.resource ${resourceReason}`);
}

/**
 * The session `DelegationRegistry#create` would create at `now` under `stack` — validated, its
 * grants proven ⊆ the delegator's authority, its id computed — without registering or signing
 * anything (pure). Throws GuardianError(DELEGATION_INVALID | DELEGATION_SCOPE_VIOLATION).
 */
export function draftSession(stack: PolicyStack, input: CreateSessionInput, now: number): DelegationSession {
  if (input === null || typeof input !== 'object') throw bad('input required');
  if (typeof input.delegator !== 'string' || input.delegator.length === 0) throw bad('delegator required');
  if (typeof input.delegate !== 'string' || input.delegate.length === 0) throw bad('delegate required');
  if (!Number.isSafeInteger(input.ttl_ms) || input.ttl_ms <= 0)
    throw bad('a positive integer ttl_ms is mandatory');
  if (input.ttl_ms > stack.p0.max_delegation_ttl_ms) throw bad('ttl_ms exceeds the P0 maximum');
  if (stack.p0.require_delegation_mfa && input.mfa_verified !== true)
    throw bad('P0 requires MFA at creation');
  if (typeof input.code_challenge !== 'string' || !CHALLENGE.test(input.code_challenge)) {
    throw bad('code_challenge must be an S256 challenge (43 base64url characters)');
  }
  const tenant = input.tenant ?? null;
  if (tenant !== null && (typeof tenant !== 'string' || tenant.length === 0))
    throw bad('tenant must be a non-empty string or null');
  if (!Array.isArray(input.grants) || input.grants.length === 0) {
    throw new GuardianError('DELEGATION_SCOPE_VIOLATION', 'a session needs at least one explicit grant');
  }
  for (const grant of input.grants) {
    checkGrantShape(grant);
    const why = grantWithinAuthority(stack, input.delegator, tenant, grant);
    if (why !== null) throw new GuardianError('DELEGATION_SCOPE_VIOLATION', why);
  }
  const body = {
    type: DELEGATION_TYPE as typeof DELEGATION_TYPE,
    delegator: input.delegator,
    delegate: input.delegate,
    tenant,
    grants: input.grants,
    created_at_ms: now,
    expires_at_ms: now + input.ttl_ms,
    code_challenge: input.code_challenge,
    code_challenge_method: 'S256' as const,
    mfa_verified: input.mfa_verified === true,
    policy_stack_hash: stack.stackHash,
  };
  return { ...body, session_id: digest(canonicalBytes(body)) };
}

/** A session body to restore: schema, id, TTL ≤ the P0 maximum, MFA, grant shapes. */
function checkSession(stack: PolicyStack, session: DelegationSession): void {
  if (!validateSession(session as unknown)) throw bad(`session ${describeErrors(validateSession.errors)}`);
  const { session_id: id, ...body } = session;
  if (digest(canonicalBytes(body)) !== id) throw bad('session_id is not the digest of the session body');
  const ttl = session.expires_at_ms - session.created_at_ms;
  if (ttl <= 0) throw bad('the session expires before it is created');
  if (ttl > stack.p0.max_delegation_ttl_ms) throw bad('the session lifetime exceeds the P0 maximum');
  if (stack.p0.require_delegation_mfa && !session.mfa_verified) throw bad('P0 requires MFA at creation');
  if (session.grants.length === 0) {
    throw bad('a session needs at least one explicit grant');
  }
  for (const grant of session.grants) checkGrantShape(grant);
}

export interface DelegationRegistryOptions {
  readonly clock: Clock;
  readonly signer: Signer;
  readonly nonces: NonceStore;
  readonly policy: () => PolicyStack | undefined;
  readonly sink?: EventSink;
}

export class DelegationRegistry {
  private readonly sessions = new Map<string, SessionState>();
  private readonly options: DelegationRegistryOptions;

  constructor(options: DelegationRegistryOptions) {
    this.options = options;
  }

  private emit(
    kind: 'ATTESTATION' | 'TRUST_EVENT',
    event: string,
    subject: string,
    payload: Record<string, unknown>,
  ): void {
    this.options.sink?.emit({ kind, event, subject, at_ms: this.options.clock.now(), payload });
  }

  /** Create a session. Throws GuardianError(DELEGATION_INVALID | DELEGATION_SCOPE_VIOLATION). */
  create(input: CreateSessionInput): { session: DelegationSession; envelope: SignedEnvelope } {
    const stack = this.options.policy();
    if (!stack) throw new GuardianError('DELEGATION_INVALID', 'no policy stack is loaded');
    const session = draftSession(stack, input, this.options.clock.now());
    const envelope = signEnvelope(session as unknown as EnvelopeBody, [this.options.signer]);
    if (!this.sessions.has(session.session_id)) {
      this.sessions.set(session.session_id, {
        session,
        revoked: false,
        expiryRecorded: false,
        provenAgainst: new Set([stack.stackHash]),
      });
      this.emit('ATTESTATION', 'delegation.created', session.session_id, { envelope });
    }
    return { session, envelope };
  }

  /**
   * Restore a session created elsewhere (`draftSession` under the same data, e.g. by an
   * administrative command that does not hold this registry) or earlier (a restart). Its body is
   * re-validated — id, TTL against the P0 maximum *now*, MFA, every grant's shape — and its grants
   * are re-proven ⊆ the delegator's authority at every use (no stack counts as proven), so a
   * session body that skipped the creation proof gains nothing. Idempotent for a known id.
   * Throws GuardianError(DELEGATION_INVALID).
   */
  restore(session: DelegationSession): void {
    const stack = this.options.policy();
    if (!stack) throw new GuardianError('DELEGATION_INVALID', 'no policy stack is loaded');
    checkSession(stack, session);
    if (this.sessions.has(session.session_id)) return;
    this.sessions.set(session.session_id, {
      session,
      revoked: false,
      expiryRecorded: false,
      provenAgainst: new Set(),
    });
  }

  /** Revoke a session (idempotent). */
  revoke(sessionId: string, actor: string, reason: string): void {
    const state = this.sessions.get(sessionId);
    if (!state) throw new GuardianError('DELEGATION_INVALID', 'unknown session');
    if (state.revoked) return;
    state.revoked = true;
    this.emit('TRUST_EVENT', 'delegation.revoked', sessionId, { actor, reason });
  }

  get(sessionId: string): DelegationSession | undefined {
    return this.sessions.get(sessionId)?.session;
  }

  /**
   * Validate a presentation for one call without consuming anything. Order: well-formed →
   * known → not revoked → not expired → verifier → presenter is the delegate → MFA → tenant →
   * nonce unused → scope (grant match and, if the stack changed, the subset re-proof).
   */
  check(presentation: unknown, subject: ScopeSubject): DelegationCheck {
    const invalid = (why: string): DelegationCheck => ({ ok: false, code: 'DELEGATION_INVALID', why });
    if (!validatePresentation(presentation)) return invalid('malformed presentation');
    const p = presentation as DelegationPresentation;
    const state = this.sessions.get(p.session_id);
    if (!state) return invalid('unknown session');
    const s = state.session;
    if (state.revoked) return invalid('session revoked');
    const now = this.options.clock.now();
    if (now >= s.expires_at_ms) {
      if (!state.expiryRecorded) {
        state.expiryRecorded = true;
        this.emit('TRUST_EVENT', 'delegation.expired', s.session_id, { expires_at_ms: s.expires_at_ms });
      }
      return invalid('session expired');
    }
    if (now < s.created_at_ms) return invalid('session not yet valid');
    if (pkceChallenge(p.code_verifier) !== s.code_challenge) return invalid('verifier does not match');
    if (subject.principal !== s.delegate) return invalid('presenting principal is not the delegate');
    const stack = this.options.policy();
    if (!stack) return invalid('no policy stack is loaded');
    if (stack.p0.require_delegation_mfa && !s.mfa_verified)
      return invalid('P0 requires an MFA-created session');
    if (subject.tenant !== s.tenant) return invalid('tenant differs from the session tenant');
    const nonceKey = `${s.session_id}|${p.nonce}`;
    if (this.options.nonces.has(nonceKey)) return invalid('nonce already used (replay)');
    const grant = s.grants.find((g) => grantMatches(g, subject));
    if (!grant) return { ok: false, code: 'DELEGATION_SCOPE_VIOLATION', why: 'no grant covers the call' };
    if (!state.provenAgainst.has(stack.stackHash)) {
      const why = grantWithinAuthority(stack, s.delegator, s.tenant, grant);
      if (why !== null)
        return { ok: false, code: 'DELEGATION_SCOPE_VIOLATION', why: `re-check at use: ${why}` };
    }
    return { ok: true, session: s, nonceKey };
  }

  /** Atomically consume the presentation nonce (call only after every other check passed). */
  consumeNonce(sessionId: string, nonceKey: string): boolean {
    if (!this.options.nonces.consume(nonceKey)) return false;
    this.emit('TRUST_EVENT', 'delegation.bound', sessionId, {
      nonce_key_hash: digest(new TextEncoder().encode(nonceKey)),
    });
    return true;
  }
}
