// The guardian: the fail-closed PEP (docs/spec/decision.md). `evaluate` runs the fixed chain
// frozen → context → identity → egress → threat → delegation → effect → policy (PRG + PDP) →
// budget → approval, and signs the verdict. Every stage is always present: one whose
// configuration is missing denies every call (GATE_NOT_CONFIGURED, or NO_POLICY for the policy
// stage). The result is a pure function of the request, the injected clock and the loaded state.
import {
  type ApprovalChallenge,
  DECISION_TYPE,
  type DecisionRecord,
  EFFECT_TYPE,
  type Effect,
  GATE_STAGES,
  type GateStage,
  type ReasonCode,
  type RiskTier,
  type SignedEnvelope,
} from '@helm/contracts';
import {
  canonicalBytes,
  canonicalDigest,
  digest,
  effectDigest as effectDigestOf,
  type PublicKeyLookup,
  type Signer,
  signIdentifiedEnvelope,
} from '@helm/crypto';
import { ApprovalCeremonies, type RateLimit } from './approval.js';
import type { BudgetCharge, BudgetLedger } from './budget.js';
import { DelegationRegistry } from './delegation.js';
import { type Destination, type EgressConfig, EgressPolicy } from './egress.js';
import { GuardianError } from './errors.js';
import { FreezeSwitch } from './freeze.js';
import { isWellFormed, resourceDefect } from './internal/resource.js';
import { InMemoryNonceStore, type NonceStore } from './nonce-store.js';
import { PolicyStack } from './policy.js';
import type { Clock, EventSink, KeyAuthorization } from './ports.js';
import { type DecisionContext, type DecisionRequest, validateRequest } from './request.js';
import { checkThreatConfig, scanInputs, type ThreatScanConfig } from './threat.js';

/** Effect classes that leave the process: they must name a destination. */
export const EGRESS_EFFECT_TYPES: readonly string[] = [
  'net.egress',
  'message.send',
  'publish',
  'data.export',
];

export const GATE_ROSTER_TYPE = 'helm.gate_roster.v1';
export const DEFAULT_INTENT_TTL_MS = 30_000;
export const MAX_INTENT_TTL_MS = 300_000;

export interface IdentityBinding {
  readonly credential_id: string;
  readonly principal: string;
  /**
   * The tenants this credential may act in (`null` = calls without a tenant). Absent: the tenant is
   * not bound to the credential (any tenant the caller names; policy rules must then constrain it).
   */
  readonly tenants?: readonly (string | null)[];
}

interface BoundIdentity {
  readonly principal: string;
  readonly tenants: ReadonlySet<string | null> | undefined;
}

export interface GuardianOptions {
  /** Signs decisions, challenges, sessions and freeze events. */
  readonly signer: Signer;
  readonly clock: Clock;
  readonly sink?: EventSink;
  /** Gate 0: present = the kill switch exists (initially released unless `initiallyFrozen`). */
  readonly freeze?: { readonly initiallyFrozen?: boolean };
  /** Gate 1: the environment fingerprint bound at start-up. */
  readonly environmentFingerprint?: string;
  /** Gate 2: each credential is bound to exactly one principal. */
  readonly identity?: { readonly bindings: readonly IdentityBinding[] };
  /** Gate 3. */
  readonly egress?: EgressConfig;
  /** Gate 4 (see DEFAULT_THREAT_CONFIG). */
  readonly threat?: ThreatScanConfig;
  /** Gate 5: present = delegation sessions are enabled (calls without a presentation act as themselves). */
  readonly delegation?: { readonly nonces?: NonceStore };
  readonly policy?: PolicyStack;
  readonly budget?: BudgetLedger;
  readonly approvals?: {
    readonly keyAuthorization: KeyAuthorization;
    readonly perApprover: RateLimit;
    readonly perPrincipal: RateLimit;
  };
  /** Lifetime of an AuthorizedExecutionIntent (default 30 s, at most 300 s). */
  readonly intentTtlMs?: number;
}

/** A call in the executor's shape (its GuardianCall): destination from the pinned descriptor. */
export interface ExecutorCall {
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  readonly cost: number;
  readonly destination: Destination | null;
  readonly args: unknown;
  readonly args_hash: string;
  /** Caller-supplied context: environment_fingerprint, credential_id, inputs, delegation, attributes, proofs. */
  readonly context: unknown;
}

/**
 * What the executor hands the guardian when execution starts (its GrantToConsume): the grant named
 * by the ALLOW decision, that decision, and the executor's own view of the call. Every field is
 * required; `tenant` is null for a call without a tenant.
 */
export interface GrantToConsume {
  readonly grant_id: string;
  readonly decision_id: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  readonly tenant: string | null;
  readonly principal: string;
  readonly tool: string;
}

/** An ALLOW decision that names an approval grant, as issued (the grant may be spent only with it). */
interface IssuedGrant {
  readonly grant_id: string;
  readonly authority: string;
  readonly requirement_digest: string;
  readonly policy_stack_hash: string;
}

export interface UnsignedEvaluation {
  /**
   * The decision, `decision_id` included. An ALLOW record is the AuthorizedExecutionIntent: it
   * carries `expires_at_ms` and `approval_grant_id` (docs/spec/intent.md).
   */
  readonly record: DecisionRecord;
  readonly effect: Effect | null;
  /** ESCALATE: the guardian-signed challenge approvers must sign. */
  readonly challenge: SignedEnvelope | null;
}

export interface Evaluation extends UnsignedEvaluation {
  /** The signed `helm.decision.v1` envelope (for an ALLOW, also the execution authorization). */
  readonly decision: SignedEnvelope;
}

type DecisionBody = Omit<DecisionRecord, 'decision_id'>;

interface Decided {
  readonly body: DecisionBody;
  readonly effect: Effect | null;
  readonly challenge: SignedEnvelope | null;
  /** ALLOW after a ceremony: what the decision's grant is bound to. */
  readonly issued: IssuedGrant | null;
}

const EMPTY_DIGEST = digest(new Uint8Array());

function safeDigest(value: unknown): string | null {
  try {
    return canonicalDigest(value);
  } catch {
    return null;
  }
}

/** An own property only: names like `constructor` or `__proto__` must never reach Object.prototype. */
function ownValue<T>(map: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** A signable string (the record must canonicalize even when the request could not). */
function str(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 && isWellFormed(value) ? value : fallback;
}

interface Verdict {
  readonly verdict: 'ALLOW' | 'DENY' | 'ESCALATE';
  readonly code: ReasonCode;
  readonly stage: GateStage;
}

const deny = (code: ReasonCode, stage: GateStage): Verdict => ({ verdict: 'DENY', code, stage });

export class Guardian {
  readonly signer: Signer;
  readonly clock: Clock;
  /** Gate 0 kill switch (undefined = not configured → deny all). */
  readonly freezeSwitch: FreezeSwitch | undefined;
  readonly delegations: DelegationRegistry | undefined;
  readonly approvals: ApprovalCeremonies | undefined;
  private rosterHash: string;
  private readonly rosterBase: Record<string, unknown>;
  private readonly sink: EventSink | undefined;
  private policy: PolicyStack | undefined;
  private readonly fingerprint: string | undefined;
  private readonly credentials: ReadonlyMap<string, BoundIdentity> | undefined;
  private readonly egress: EgressPolicy | undefined;
  private readonly threat: ThreatScanConfig | undefined;
  private readonly budget: BudgetLedger | undefined;
  private readonly intentTtl: number;
  private readonly unconfiguredStackHash: string;
  /** decision_id → the grant an ALLOW decision names; grant_id → those decision ids. */
  private readonly grantDecisions = new Map<string, IssuedGrant>();
  private readonly decisionsByGrant = new Map<string, string[]>();

  constructor(options: GuardianOptions) {
    if (!options?.signer || !options.clock)
      throw new GuardianError('CONFIG_INVALID', 'signer and clock are required');
    this.signer = options.signer;
    this.clock = options.clock;
    const sink = options.sink;
    this.freezeSwitch = options.freeze
      ? new FreezeSwitch({
          clock: options.clock,
          signer: options.signer,
          ...(sink ? { sink } : {}),
          ...(options.freeze.initiallyFrozen === undefined
            ? {}
            : { initiallyFrozen: options.freeze.initiallyFrozen }),
        })
      : undefined;
    if (
      options.environmentFingerprint !== undefined &&
      (typeof options.environmentFingerprint !== 'string' || options.environmentFingerprint.length === 0)
    ) {
      throw new GuardianError('CONFIG_INVALID', 'environmentFingerprint must be a non-empty string');
    }
    this.fingerprint = options.environmentFingerprint;
    if (options.identity) {
      const map = new Map<string, BoundIdentity>();
      for (const b of options.identity.bindings) {
        if (
          typeof b.credential_id !== 'string' ||
          b.credential_id.length === 0 ||
          typeof b.principal !== 'string' ||
          b.principal.length === 0
        ) {
          throw new GuardianError('CONFIG_INVALID', 'identity bindings need credential_id and principal');
        }
        const tenants = b.tenants;
        if (
          tenants !== undefined &&
          (!Array.isArray(tenants) ||
            !tenants.every((t) => t === null || (typeof t === 'string' && t.length > 0)))
        ) {
          throw new GuardianError(
            'CONFIG_INVALID',
            `credential ${b.credential_id}: tenants must be strings or null`,
          );
        }
        const existing = map.get(b.credential_id);
        const canonicalTenants =
          tenants === undefined ? undefined : JSON.stringify([...new Set(tenants)].sort());
        if (
          existing !== undefined &&
          (existing.principal !== b.principal ||
            (existing.tenants === undefined ? undefined : JSON.stringify([...existing.tenants].sort())) !==
              canonicalTenants)
        ) {
          throw new GuardianError(
            'CONFIG_INVALID',
            `credential ${b.credential_id} is bound to two principals or two tenant sets`,
          );
        }
        map.set(b.credential_id, {
          principal: b.principal,
          tenants: tenants === undefined ? undefined : new Set(tenants),
        });
      }
      this.credentials = map;
    }
    this.egress = options.egress ? new EgressPolicy(options.egress) : undefined;
    this.threat = options.threat ? checkThreatConfig(options.threat) : undefined;
    this.policy = options.policy;
    this.budget = options.budget;
    this.delegations = options.delegation
      ? new DelegationRegistry({
          clock: options.clock,
          signer: options.signer,
          nonces: options.delegation.nonces ?? new InMemoryNonceStore(),
          policy: () => this.policy,
          ...(sink ? { sink } : {}),
        })
      : undefined;
    this.approvals = options.approvals
      ? new ApprovalCeremonies({
          clock: options.clock,
          signer: options.signer,
          ...options.approvals,
          ...(sink ? { sink } : {}),
        })
      : undefined;
    const ttl = options.intentTtlMs ?? DEFAULT_INTENT_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_INTENT_TTL_MS) {
      throw new GuardianError(
        'CONFIG_INVALID',
        `intentTtlMs must be an integer in [1, ${MAX_INTENT_TTL_MS}]`,
      );
    }
    this.intentTtl = ttl;
    this.unconfiguredStackHash = digest(canonicalBytes({ p0: null, p1: [], p2: [] }));
    const configured = (on: boolean, detail: unknown = null): string | null =>
      on ? safeDigest(detail) : null;
    this.sink = sink;
    this.rosterBase = {
      frozen: configured(this.freezeSwitch !== undefined, 'kill-switch'),
      context: configured(this.fingerprint !== undefined, this.fingerprint),
      identity: configured(
        this.credentials !== undefined,
        [...(this.credentials ?? new Map<string, BoundIdentity>())]
          .map(([credential, bound]) =>
            bound.tenants === undefined
              ? [credential, bound.principal]
              : [credential, bound.principal, [...bound.tenants].sort()],
          )
          .sort(),
      ),
      egress: configured(this.egress !== undefined, options.egress),
      threat: configured(this.threat !== undefined, this.threat),
      delegation: configured(this.delegations !== undefined, 'sessions'),
      effect: configured(true, EFFECT_TYPE),
      budget: configured(this.budget !== undefined, 'ledger'),
      approval: configured(this.approvals !== undefined, {
        per_approver: options.approvals?.perApprover,
        per_principal: options.approvals?.perPrincipal,
      }),
      intent_ttl_ms: ttl,
    };
    this.rosterHash = this.computeRoster();
  }

  private computeRoster(): string {
    const policy = this.policy === undefined ? null : safeDigest(this.policy.stackHash);
    return digest(
      canonicalBytes({ type: GATE_ROSTER_TYPE, stages: GATE_STAGES, config: { ...this.rosterBase, policy } }),
    );
  }

  /** digest of the gate roster: ordered stages and each stage's configuration digest (null = unconfigured). */
  get gateRosterHash(): string {
    return this.rosterHash;
  }

  /**
   * Replace the policy stack (a reload). Recorded as a TRUST_EVENT; delegation grants are
   * re-proven against the new stack at their next use.
   */
  replacePolicy(stack: PolicyStack, actor: string): void {
    if (!(stack instanceof PolicyStack))
      throw new GuardianError('CONFIG_INVALID', 'a loaded PolicyStack is required');
    const previous = this.policy?.stackHash ?? null;
    this.policy = stack;
    this.rosterHash = this.computeRoster();
    // decisions issued under another stack can no longer spend their grants (I-APPROVAL-1)
    for (const [decisionId, issued] of this.grantDecisions) {
      if (issued.policy_stack_hash !== stack.stackHash) this.forgetDecision(decisionId, issued.grant_id);
    }
    this.sink?.emit({
      kind: 'TRUST_EVENT',
      event: 'policy.replaced',
      subject: stack.stackHash,
      at_ms: this.clock.now(),
      payload: { actor, previous, current: stack.stackHash, gate_roster_hash: this.rosterHash },
    });
  }

  /** The loaded policy stack, if any. */
  get policyStack(): PolicyStack | undefined {
    return this.policy;
  }

  /** Public-key lookup for this guardian's own signatures (decisions, challenges). */
  get publicKeys(): PublicKeyLookup {
    return (keyId) => (keyId === this.signer.keyId ? this.signer.publicKey : undefined);
  }

  /** Evaluate and sign (one signature: the decision, which for an ALLOW is the intent too). */
  evaluate(request: DecisionRequest): Evaluation {
    const { body, effect, challenge, issued } = this.decide(request);
    const signed = signIdentifiedEnvelope(body, 'decision_id', [this.signer]);
    if (issued !== null) this.rememberDecision(signed.body.decision_id, issued);
    return { record: signed.body, effect, challenge, decision: signed.envelope };
  }

  /** Evaluate without signing (the record is complete, decision_id included). */
  evaluateUnsigned(request: DecisionRequest): UnsignedEvaluation {
    const { body, effect, challenge, issued } = this.decide(request);
    const decisionId = canonicalDigest(body);
    if (issued !== null) this.rememberDecision(decisionId, issued);
    return { record: { ...body, decision_id: decisionId }, effect, challenge };
  }

  private rememberDecision(decisionId: string, issued: IssuedGrant): void {
    this.grantDecisions.set(decisionId, issued);
    const ids = this.decisionsByGrant.get(issued.grant_id);
    if (ids) ids.push(decisionId);
    else this.decisionsByGrant.set(issued.grant_id, [decisionId]);
  }

  private forgetDecision(decisionId: string, grantId: string): void {
    this.grantDecisions.delete(decisionId);
    const ids = this.decisionsByGrant.get(grantId)?.filter((id) => id !== decisionId);
    if (ids && ids.length > 0) this.decisionsByGrant.set(grantId, ids);
    else this.decisionsByGrant.delete(grantId);
  }

  private decide(request: DecisionRequest): Decided {
    const now = this.clock.now();
    const req = (request ?? {}) as Partial<DecisionRequest>;
    let effect: Effect | null = null;
    let effectDigest: string | null = null;
    let argsHash = EMPTY_DIGEST;
    let requestHash = EMPTY_DIGEST;
    let reservation: string | null = null;
    let sessionId: string | null = null;
    let challengeId: string | null = null;
    let challenge: SignedEnvelope | null = null;
    let grantId: string | null = null;
    let issued: IssuedGrant | null = null;
    let review = false;
    let stage: GateStage = 'frozen';

    const finish = (verdict: Verdict): Decided => {
      let v = verdict;
      if (v.verdict !== 'ALLOW' && reservation !== null) {
        this.budget?.refund(reservation);
        reservation = null;
      }
      // An ALLOW without an effect cannot be bound to anything: fail closed.
      if (v.verdict === 'ALLOW' && (effect === null || effectDigest === null)) {
        v = deny('INTERNAL_ERROR', v.stage);
      }
      const allow = v.verdict === 'ALLOW';
      // Keys in canonical (sorted) order: canonicalization then needs no sort.
      const body: DecisionBody = {
        action: str(req.action, 'invalid'),
        approval_challenge_id: challengeId,
        approval_grant_id: allow ? grantId : null,
        args_hash: argsHash,
        budget_reservation_id: reservation,
        decided_at_ms: now,
        decided_by: v.stage,
        effect_digest: effectDigest,
        expires_at_ms: allow ? now + this.intentTtl : null,
        gate_roster_hash: this.gateRosterHash,
        policy_stack_hash: this.policy?.stackHash ?? this.unconfiguredStackHash,
        principal: str(req.principal, 'invalid'),
        reason_code: v.code,
        request_hash: requestHash,
        resource: str(req.resource, ''),
        review_required: review,
        session_id: sessionId,
        tenant: typeof req.tenant === 'string' && isWellFormed(req.tenant) ? req.tenant : null,
        tool: str(req.tool, 'invalid'),
        type: DECISION_TYPE,
        verdict: v.verdict,
      };
      return { body, effect, challenge, issued: allow ? issued : null };
    };

    try {
      // Hashes first (pure): the record binds them whatever the verdict.
      const { args, ...rest } = req;
      const ah = safeDigest(args);
      if (ah !== null) argsHash = ah;
      requestHash = safeDigest({ ...rest, args_hash: argsHash }) ?? EMPTY_DIGEST;

      // 0 — frozen
      if (!this.freezeSwitch) return finish(deny('GATE_NOT_CONFIGURED', stage));
      if (this.freezeSwitch.frozen) return finish(deny('GATE_FROZEN', stage));

      // 1 — context: well-formed request bound to the same environment
      stage = 'context';
      if (ah === null || requestHash === EMPTY_DIGEST || !validateRequest(req))
        return finish(deny('ARGS_MALFORMED', stage));
      const r = req as DecisionRequest;
      if (r.args_hash !== argsHash) return finish(deny('ARGS_MALFORMED', stage));
      const tenant = r.tenant ?? null;
      effect = {
        action: r.action,
        args_hash: argsHash,
        ...(r.context.destination ? { destination: r.context.destination.host } : {}),
        effect_type: r.effect_type,
        principal: r.principal,
        resource: r.resource,
        risk_tier: r.risk_tier,
        tool: r.tool,
        type: EFFECT_TYPE,
      };
      effectDigest = effectDigestOf(effect);
      if (this.fingerprint === undefined) return finish(deny('GATE_NOT_CONFIGURED', stage));
      if (r.context.environment_fingerprint !== this.fingerprint)
        return finish(deny('GATE_CONTEXT_MISMATCH', stage));
      // the resource must be canonical for its kind before any scope or rule sees it (I-RESOURCE-1)
      if (resourceDefect(r.resource) !== null) return finish(deny('RESOURCE_NONCANONICAL', stage));

      // 2 — identity isolation
      stage = 'identity';
      if (!this.credentials) return finish(deny('GATE_NOT_CONFIGURED', stage));
      const bound = this.credentials.get(r.context.credential_id);
      if (bound === undefined || bound.principal !== r.principal)
        return finish(deny('GATE_IDENTITY_ISOLATION', stage));
      // A credential bound to tenants authenticates the tenant too (keys, budgets, approvals and
      // stored results are namespaced by it).
      if (bound.tenants !== undefined && !bound.tenants.has(tenant))
        return finish(deny('GATE_IDENTITY_ISOLATION', stage));

      // 3 — egress
      stage = 'egress';
      if (!this.egress) return finish(deny('GATE_NOT_CONFIGURED', stage));
      const destination = r.context.destination;
      if (destination ? !this.egress.allows(destination) : EGRESS_EFFECT_TYPES.includes(r.effect_type)) {
        return finish(deny('GATE_EGRESS_DENIED', stage));
      }

      // 4 — threat scan
      stage = 'threat';
      if (!this.threat) return finish(deny('GATE_NOT_CONFIGURED', stage));
      if (r.context.inputs && r.context.inputs.length > 0) {
        const hit = scanInputs(r.context.inputs, this.threat);
        if (hit !== null) return finish(deny(hit, stage));
      }

      // 5 — delegation (validated here; its nonce is consumed only after every later check)
      stage = 'delegation';
      if (!this.delegations) return finish(deny('GATE_NOT_CONFIGURED', stage));
      let authority = r.principal;
      let nonceKey: string | null = null;
      if (r.context.delegation !== undefined) {
        const check = this.delegations.check(r.context.delegation, {
          principal: r.principal,
          tenant,
          tool: r.tool,
          action: r.action,
          resource: r.resource,
          effect_type: r.effect_type,
        });
        if (!check.ok) return finish(deny(check.code, stage));
        sessionId = check.session.session_id;
        authority = check.session.delegator;
        nonceKey = check.nonceKey;
      }

      // effect construction (done above, pure) — the digest is now authoritative
      stage = 'effect';

      // PRG + PDP (P0 ∩ P1 ∩ P2 evaluated for the authority: the delegator for delegated calls)
      stage = 'policy';
      const stack = this.policy;
      if (!stack) return finish(deny('NO_POLICY', stage));
      const outcome = stack.evaluate({
        principal: authority,
        tenant,
        tool: r.tool,
        action: r.action,
        resource: r.resource,
        effect_type: r.effect_type,
        risk_tier: r.risk_tier,
        args: r.args,
        context: r.context.attributes ?? {},
      });
      if (!outcome.allowed) return finish(deny(outcome.code, stage));
      const proofs = r.context.proofs ?? [];
      if (outcome.proofs.some((p) => !proofs.includes(p)))
        return finish(deny('PRG_REQUIREMENT_MISSING', stage));

      // budget
      stage = 'budget';
      if (!this.budget) return finish(deny('GATE_NOT_CONFIGURED', stage));
      const budgets = stack.p0.budgets;
      const charges: BudgetCharge[] = [
        {
          account: `principal:${authority}`,
          ceiling: ownValue(budgets.principals, authority) ?? budgets.default_principal_max,
        },
      ];
      if (tenant !== null) {
        charges.push({
          account: `tenant:${tenant}`,
          ceiling: ownValue(budgets.tenants, tenant) ?? budgets.default_tenant_max,
        });
      }
      reservation = this.budget.reserve(charges, r.cost ?? 1);
      if (reservation === null) return finish(deny('BUDGET_EXCEEDED', stage));

      // approval requirement
      stage = 'approval';
      if (!this.approvals) return finish(deny('GATE_NOT_CONFIGURED', stage));
      if (outcome.approval !== null) {
        const check = this.approvals.check({
          principal: r.principal,
          authority,
          tenant,
          tool: r.tool,
          action: r.action,
          resource: r.resource,
          effect_digest: effectDigest,
          args_hash: argsHash,
          policy_bundle_hash: stack.bundleHash,
          p0_ceiling_hash: stack.p0Hash,
          requirement: outcome.approval,
        });
        if (check.state === 'denied') return finish(deny(check.code, stage));
        challengeId = check.challenge.challenge_id;
        if (check.state === 'pending') {
          challenge = check.envelope;
          return finish({ verdict: 'ESCALATE', code: 'APPROVAL_REQUIRED', stage });
        }
        grantId = check.grant_id;
        review = check.emergency;
        issued = {
          grant_id: check.grant_id,
          authority,
          requirement_digest: check.challenge.requirement_digest,
          policy_stack_hash: stack.stackHash,
        };
      }

      // every check passed: now, and only now, burn the delegation nonce (atomically)
      if (sessionId !== null && nonceKey !== null && !this.delegations.consumeNonce(sessionId, nonceKey)) {
        return finish(deny('DELEGATION_INVALID', 'delegation'));
      }
      return finish({ verdict: 'ALLOW', code: 'ALLOW', stage: 'approval' });
    } catch {
      return finish(deny('INTERNAL_ERROR', stage));
    }
  }

  /**
   * Evaluate a call in the executor's shape: the destination comes from the pinned tool
   * descriptor (it replaces any destination in the caller-supplied context).
   */
  evaluateCall(call: ExecutorCall): Evaluation {
    const context =
      call.context !== null && typeof call.context === 'object' ? { ...(call.context as object) } : {};
    const { destination: _ignored, ...rest } = context as Record<string, unknown>;
    return this.evaluate({
      principal: call.principal,
      tenant: call.tenant,
      tool: call.tool,
      action: call.action,
      resource: call.resource,
      effect_type: call.effect_type,
      risk_tier: call.risk_tier,
      cost: call.cost,
      args: call.args,
      args_hash: call.args_hash,
      context: (call.destination
        ? { ...rest, destination: call.destination }
        : rest) as unknown as DecisionContext,
    });
  }

  /**
   * Consume an approval grant when execution starts; false when it cannot be consumed. The grant
   * must be named by an ALLOW decision this guardian issued (`decision_id`) under the policy stack
   * still in force, and the ceremony re-checks tenant, principal, the decision's authority, tool,
   * effect digest, args hash and requirement digest against the challenge (I-APPROVAL-1/2).
   */
  consumeGrant(grant: GrantToConsume): boolean {
    const stack = this.policy;
    if (!this.approvals || !stack || grant === null || typeof grant !== 'object') return false;
    const refuse = (why: string): false => {
      this.sink?.emit({
        kind: 'TRUST_EVENT',
        event: 'grant.refused',
        subject: typeof grant.grant_id === 'string' ? grant.grant_id : '-',
        at_ms: this.clock.now(),
        payload: { why, decision_id: typeof grant.decision_id === 'string' ? grant.decision_id : null },
      });
      return false;
    };
    const issued =
      typeof grant.decision_id === 'string' ? this.grantDecisions.get(grant.decision_id) : undefined;
    if (!issued || issued.grant_id !== grant.grant_id)
      return refuse('no ALLOW decision of this guardian names this grant');
    if (issued.policy_stack_hash !== stack.stackHash)
      return refuse('the decision was issued under another policy stack');
    try {
      this.approvals.consumeGrant({
        grant_id: grant.grant_id,
        tenant: grant.tenant,
        principal: grant.principal,
        authority: issued.authority,
        tool: grant.tool,
        effect_digest: grant.effect_digest,
        args_hash: grant.args_hash,
        requirement_digest: issued.requirement_digest,
        policy_bundle_hash: stack.bundleHash,
        p0_ceiling_hash: stack.p0Hash,
      });
    } catch {
      return false;
    }
    for (const id of this.decisionsByGrant.get(grant.grant_id) ?? []) this.grantDecisions.delete(id);
    this.decisionsByGrant.delete(grant.grant_id);
    return true;
  }

  /** Commit a budget reservation after a successful execution. */
  commitBudget(reservationId: string): void {
    if (!this.budget) throw new GuardianError('BUDGET_RESERVATION_UNKNOWN', 'no budget ledger configured');
    this.budget.commit(reservationId);
  }

  /** Refund a budget reservation after a failed execution. */
  refundBudget(reservationId: string): void {
    if (!this.budget) throw new GuardianError('BUDGET_RESERVATION_UNKNOWN', 'no budget ledger configured');
    this.budget.refund(reservationId);
  }

  /** Hash of the policy stack in force. */
  policyHash(): string {
    return this.policy?.stackHash ?? this.unconfiguredStackHash;
  }

  /** The executor's guardian port (evaluate = evaluateCall). */
  asExecutorPort(): {
    evaluate(call: ExecutorCall): Evaluation;
    consumeGrant(grant: GrantToConsume): boolean;
    commitBudget(reservationId: string): void;
    refundBudget(reservationId: string): void;
    policyHash(): string;
  } {
    return {
      evaluate: (call) => this.evaluateCall(call),
      consumeGrant: (grant) => this.consumeGrant(grant),
      commitBudget: (id) => this.commitBudget(id),
      refundBudget: (id) => this.refundBudget(id),
      policyHash: () => this.policyHash(),
    };
  }

  /** Look up the challenge held for an ESCALATE decision. */
  challenge(challengeId: string): ApprovalChallenge | undefined {
    return this.approvals?.getChallenge(challengeId);
  }
}
