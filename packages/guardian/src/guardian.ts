// The guardian: the fail-closed PEP (docs/spec/decision.md). `evaluate` runs the ten stages
// 0 frozen → 1 context → 2 identity → 3 egress → 4 threat → 5 delegation → 6 effect → 7 policy →
// 8 budget → 9 approval (`GATE_STAGES`), and signs the verdict. Every stage is always present: one
// whose configuration is missing denies every call (GATE_NOT_CONFIGURED, or NO_POLICY for policy).
//
// What is pure and what writes. Each stage is one pure function in `internal/stages.ts` (stage 6
// checks nothing and has none): a function of the request, the injected clock, earlier stages'
// results and the loaded state, returning its result or a denial. `decide` runs stages 0–8; a
// denial there has written nothing (one observation aside: the delegation registry emits
// `delegation.expired` the first time it sees an expired session). Every write is in the commit
// phase (`commit`), in chain order:
//   1. reserve the budget on the ledger (the atomic reserve is stage 8's verdict, BUDGET_EXCEEDED);
//   2. stage 9, then its ceremony (`ApprovalCeremonies#check`: may open, sign and store a challenge
//      and count it against the principal's rate limit, or close an expired one);
//   3. burn the delegation nonce;
// and refund the reservation for any verdict but ALLOW. One builder (`decisionBody`) then makes the
// record from the verdict and an explicit record of how far the chain got (`ChainRecord`).
// `evaluate` signs it and, for an ALLOW after a ceremony, remembers which decision names the grant
// (`consumeGrant` requires it). Same request, clock readings and loaded state → same bytes.
import type { ApprovalChallenge } from '@helm/contracts/approval';
import { type DecisionRecord, GATE_STAGES, type GateStage } from '@helm/contracts/decision';
import { EFFECT_TYPE, type Effect, type RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { Signer } from '@helm/crypto/ed25519';
import type { PublicKeyLookup } from '@helm/crypto/envelope';
import { signIdentifiedEnvelope } from '@helm/crypto/envelope-sign';
import { digest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { ApprovalCeremonies, type RateLimit } from './approval.js';
import type { BudgetLedger } from './budget.js';
import { DelegationRegistry } from './delegation.js';
import { type Destination, type EgressConfig, EgressPolicy } from './egress.js';
import { GuardianError } from './errors.js';
import { FreezeSwitch } from './freeze.js';
import { bindCredentials, type IdentityBinding, identityRoster } from './identity.js';
import {
  type ChainRecord,
  type Decided,
  decisionBody,
  deny,
  type IssuedGrant,
  startRecord,
  type Verdict,
} from './internal/decision-body.js';
import * as stages from './internal/stages.js';
import {
  type Admitted,
  type BudgetPlan,
  type GateState,
  type ParsedCall,
  safeDigest,
} from './internal/stages.js';
import { InMemoryNonceStore, type NonceStore } from './nonce-store.js';
import { PolicyStack, type ScopeSubject } from './policy.js';
import type { Clock, EventSink, KeyAuthorization } from './ports.js';
import type { DecisionContext, DecisionRequest } from './request.js';
import { checkThreatConfig, type ThreatScanConfig } from './threat.js';

export const GATE_ROSTER_TYPE = 'helm.gate_roster.v1';
export const DEFAULT_INTENT_TTL_MS = 30_000;
export const MAX_INTENT_TTL_MS = 300_000;

export interface GuardianOptions {
  /** Signs decisions, challenges, sessions and freeze events. */
  readonly signer: Signer;
  readonly clock: Clock;
  readonly sink?: EventSink;
  /** Stage 0 `frozen`: present = the kill switch exists (initially released unless `initiallyFrozen`). */
  readonly freeze?: { readonly initiallyFrozen?: boolean };
  /** Stage 1 `context`: the environment fingerprint bound at start-up. */
  readonly environmentFingerprint?: string;
  /** Stage 2 `identity`: each credential is bound to exactly one principal. */
  readonly identity?: { readonly bindings: readonly IdentityBinding[] };
  /** Stage 3 `egress`. */
  readonly egress?: EgressConfig;
  /** Stage 4 `threat` (see DEFAULT_THREAT_CONFIG). */
  readonly threat?: ThreatScanConfig;
  /** Stage 5 `delegation`: present = sessions are enabled (calls without a presentation act as themselves). */
  readonly delegation?: { readonly nonces?: NonceStore };
  /** Stage 7 `policy` (stage 6 `effect` has no configuration). */
  readonly policy?: PolicyStack;
  /** Stage 8 `budget`. */
  readonly budget?: BudgetLedger;
  /** Stage 9 `approval`. */
  readonly approvals?: {
    readonly keyAuthorization: KeyAuthorization;
    readonly perApprover: RateLimit;
    readonly perPrincipal: RateLimit;
  };
  /** Lifetime of an AuthorizedExecutionIntent (default 30 s, at most 300 s). */
  readonly intentTtlMs?: number;
}

/** A call in the executor's shape (its GuardianCall): destination from the pinned descriptor. */
export interface ExecutorCall extends ScopeSubject {
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

export interface Evaluation {
  /**
   * The decision, `decision_id` included. An ALLOW record is the AuthorizedExecutionIntent: it
   * carries `expires_at_ms` and `approval_grant_id` (docs/spec/intent.md).
   */
  readonly record: DecisionRecord;
  readonly effect: Effect | null;
  /** ESCALATE: the guardian-signed challenge approvers must sign. */
  readonly challenge: SignedEnvelope | null;
  /** The signed `helm.decision.v1` envelope (for an ALLOW, also the execution authorization). */
  readonly decision: SignedEnvelope;
}

/** policy_stack_hash when no policy is loaded. */
const UNCONFIGURED_STACK_HASH = digest(canonicalBytes({ p0: null, p1: [], p2: [] }));

const ALLOW: Verdict = { verdict: 'ALLOW', code: 'ALLOW', stage: 'approval' };

/** Stage 1 `context` (after parsing) to stage 4 `threat`: each passes (null) or denies. */
const CALL_CHECKS: readonly (readonly [GateStage, (call: ParsedCall, s: GateState) => ReasonCode | null])[] =
  [
    ['context', stages.context],
    ['identity', stages.identity],
    ['egress', stages.egress],
    ['threat', stages.threat],
  ];

function checkFingerprint(fingerprint: string | undefined): string | undefined {
  if (fingerprint !== undefined && (typeof fingerprint !== 'string' || fingerprint.length === 0)) {
    throw new GuardianError('CONFIG_INVALID', 'environmentFingerprint must be a non-empty string');
  }
  return fingerprint;
}

function checkIntentTtl(ttl: number): number {
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_INTENT_TTL_MS) {
    throw new GuardianError('CONFIG_INVALID', `intentTtlMs must be an integer in [1, ${MAX_INTENT_TTL_MS}]`);
  }
  return ttl;
}

/** Each stage's roster entry but `policy`: the digest of its configuration, null when unconfigured. */
function rosterConfig(
  s: GateState,
  options: GuardianOptions,
  egress: EgressConfig | undefined,
  ttl: number,
): Record<string, unknown> {
  const configured = (on: boolean, detail: unknown): string | null => (on ? safeDigest(detail) : null);
  return {
    frozen: configured(s.freeze !== undefined, 'kill-switch'),
    context: configured(s.fingerprint !== undefined, s.fingerprint),
    identity: s.credentials === undefined ? null : safeDigest(identityRoster(s.credentials)),
    egress: configured(s.egress !== undefined, egress),
    threat: configured(s.threat !== undefined, s.threat),
    delegation: configured(s.delegations !== undefined, 'sessions'),
    effect: configured(true, EFFECT_TYPE),
    budget: configured(s.budget !== undefined, 'ledger'),
    approval: configured(s.approvals !== undefined, {
      per_approver: options.approvals?.perApprover,
      per_principal: options.approvals?.perPrincipal,
    }),
    intent_ttl_ms: ttl,
  };
}

export class Guardian {
  readonly signer: Signer;
  readonly clock: Clock;
  /** Stage 0 kill switch (undefined = not configured → deny all). */
  readonly freezeSwitch: FreezeSwitch | undefined;
  readonly delegations: DelegationRegistry | undefined;
  readonly approvals: ApprovalCeremonies | undefined;
  /**
   * What the stages read besides the policy stack: fixed at construction but for the identity
   * bindings and the egress allowlist, which administrative edits replace whole between decisions.
   */
  private gates: GateState;
  private policy: PolicyStack | undefined;
  private rosterHash: string;
  private rosterBase: Record<string, unknown>;
  private readonly sink: EventSink | undefined;
  private readonly intentTtl: number;
  /** decision_id → the grant an ALLOW decision names; grant_id → those decision ids. */
  private readonly grantDecisions = new Map<string, IssuedGrant>();
  private readonly decisionsByGrant = new Map<string, string[]>();

  constructor(options: GuardianOptions) {
    if (!options?.signer || !options.clock)
      throw new GuardianError('CONFIG_INVALID', 'signer and clock are required');
    this.signer = options.signer;
    this.clock = options.clock;
    this.sink = options.sink;
    const ports = { clock: options.clock, signer: options.signer, ...(this.sink ? { sink: this.sink } : {}) };
    const initiallyFrozen = options.freeze?.initiallyFrozen;
    this.freezeSwitch = options.freeze
      ? new FreezeSwitch({ ...ports, ...(initiallyFrozen === undefined ? {} : { initiallyFrozen }) })
      : undefined;
    const fingerprint = checkFingerprint(options.environmentFingerprint);
    const credentials = options.identity ? bindCredentials(options.identity.bindings) : undefined;
    const egress = options.egress ? new EgressPolicy(options.egress) : undefined;
    const threat = options.threat ? checkThreatConfig(options.threat) : undefined;
    this.delegations = options.delegation
      ? new DelegationRegistry({
          ...ports,
          nonces: options.delegation.nonces ?? new InMemoryNonceStore(),
          policy: () => this.policy,
        })
      : undefined;
    this.approvals = options.approvals
      ? new ApprovalCeremonies({ ...ports, ...options.approvals })
      : undefined;
    this.intentTtl = checkIntentTtl(options.intentTtlMs ?? DEFAULT_INTENT_TTL_MS);
    this.gates = {
      freeze: this.freezeSwitch,
      fingerprint,
      credentials,
      egress,
      threat,
      delegations: this.delegations,
      budget: options.budget,
      approvals: this.approvals,
    };
    this.policy = options.policy;
    this.rosterBase = rosterConfig(this.gates, options, options.egress, this.intentTtl);
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

  /**
   * Replace the identity bindings of stage 2 (an administrative edit: a credential bound or
   * unbound). All-or-nothing: bindings that do not validate throw CONFIG_INVALID and change
   * nothing. The gate roster hash changes with them; recorded as a TRUST_EVENT. The next decision
   * sees the new bindings.
   */
  replaceIdentity(bindings: readonly IdentityBinding[], actor: string): void {
    const credentials = bindCredentials(bindings);
    this.gates = { ...this.gates, credentials };
    this.rosterBase = { ...this.rosterBase, identity: safeDigest(identityRoster(credentials)) };
    this.replacedStage('identity.replaced', actor);
  }

  /**
   * Replace the egress allowlist of stage 3 (an administrative edit). All-or-nothing like
   * `replaceIdentity`: a configuration that does not compile throws CONFIG_INVALID and changes
   * nothing.
   */
  replaceEgress(config: EgressConfig, actor: string): void {
    const egress = new EgressPolicy(config);
    this.gates = { ...this.gates, egress };
    this.rosterBase = { ...this.rosterBase, egress: safeDigest(config) };
    this.replacedStage('egress.replaced', actor);
  }

  private replacedStage(event: string, actor: string): void {
    this.rosterHash = this.computeRoster();
    this.sink?.emit({
      kind: 'TRUST_EVENT',
      event,
      subject: this.rosterHash,
      at_ms: this.clock.now(),
      payload: { actor, gate_roster_hash: this.rosterHash },
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

  /**
   * Evaluate and sign (one signature: the decision, which for an ALLOW is the intent too).
   *
   * @example
   * ```ts
   * import type { DecisionRequest, Guardian } from '@helm/guardian';
   *
   * declare const guardian: Guardian;
   * declare const request: DecisionRequest;
   * const { record, decision } = guardian.evaluate(request); // one signature: the decision
   * if (record.verdict !== 'ALLOW') console.log(record.reason_code);
   * else console.log(decision.type); // the execution authorization the executor verifies
   * ```
   */
  evaluate(request: DecisionRequest): Evaluation {
    const { body, effect, challenge, issued } = this.decide(request);
    const signed = signIdentifiedEnvelope(body, 'decision_id', [this.signer]);
    if (issued !== null) this.rememberDecision(signed.body.decision_id, issued);
    return { record: signed.body, effect, challenge, decision: signed.envelope };
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

  /** The unsigned decision: the verdict of the chain and the body that binds it. */
  private decide(request: DecisionRequest): Decided {
    const now = this.clock.now();
    const req = (request ?? {}) as Partial<DecisionRequest>;
    const reached = startRecord();
    let verdict: Verdict;
    try {
      verdict = this.runChain(req, reached, now);
    } catch {
      verdict = deny('INTERNAL_ERROR', reached.stage);
    }
    return decisionBody(req, reached, verdict, {
      now,
      intentTtlMs: this.intentTtl,
      gateRosterHash: this.rosterHash,
      policyStackHash: this.policyHash(),
    });
  }

  /**
   * Stages 0–8 in chain order (pure: the first denial ends the chain), then the commit phase.
   * `reached` records each stage as it starts and each result the record binds.
   */
  private runChain(req: Partial<DecisionRequest>, reached: ChainRecord, now: number): Verdict {
    const s = this.gates;
    // The hashes come first: the record binds them whatever the verdict.
    reached.hashes = stages.hashRequest(req);
    const frozen = stages.frozen(s);
    if (frozen !== null) return deny(frozen, 'frozen');

    reached.stage = 'context';
    const call = stages.parseCall(req, reached.hashes);
    if (call === null) return deny('ARGS_MALFORMED', 'context');
    reached.call = call;
    for (const [stage, check] of CALL_CHECKS) {
      reached.stage = stage;
      const code = check(call, s);
      if (code !== null) return deny(code, stage);
    }

    reached.stage = 'delegation';
    const delegated = stages.delegation(call, s);
    if (typeof delegated === 'string') return deny(delegated, 'delegation');
    reached.sessionId = delegated.session?.id ?? null;

    // Stage 6 `effect` checks nothing: `parseCall` built the effect in stage 1 and every record
    // since has bound its digest.

    reached.stage = 'policy';
    const admitted = stages.policy(call, delegated, this.policy);
    if (typeof admitted === 'string') return deny(admitted, 'policy');

    reached.stage = 'budget';
    const budget = stages.budget(admitted, s, now);
    if (typeof budget === 'string') return deny(budget, 'budget');
    return this.commit(admitted, budget, reached);
  }

  /**
   * The commit phase — a decision's only writes, in chain order. Reserve the budget (a null
   * reservation is stage 8's BUDGET_EXCEEDED), then run stage 9 and its ceremony and burn the
   * delegation nonce. A verdict other than ALLOW, an exception included, refunds the reservation:
   * only an ALLOW record carries one.
   */
  private commit(admitted: Admitted, budget: BudgetPlan, reached: ChainRecord): Verdict {
    const reservation = budget.ledger.reserve(budget.charges, budget.amount);
    if (reservation === null) return deny('BUDGET_EXCEEDED', 'budget');
    let verdict: Verdict;
    try {
      verdict = this.approveAndBurnNonce(admitted, reached);
    } catch {
      verdict = deny('INTERNAL_ERROR', reached.stage);
    }
    if (verdict.verdict === 'ALLOW') reached.reservation = reservation;
    else budget.ledger.refund(reservation);
    return verdict;
  }

  /** Commit, after the reservation: stage 9 (its check, then the ceremony), then the nonce burn. */
  private approveAndBurnNonce(admitted: Admitted, reached: ChainRecord): Verdict {
    reached.stage = 'approval';
    const approval = stages.approval(admitted, this.gates);
    if (typeof approval === 'string') return deny(approval, 'approval');
    if (approval.input !== null) {
      const check = approval.ceremonies.check(approval.input);
      if (check.state === 'denied') return deny(check.code, 'approval');
      reached.challengeId = check.challenge.challenge_id;
      if (check.state === 'pending') {
        reached.challenge = check.envelope;
        return { verdict: 'ESCALATE', code: 'APPROVAL_REQUIRED', stage: 'approval' };
      }
      reached.grant = {
        review: check.emergency,
        issued: {
          grant_id: check.grant_id,
          authority: admitted.delegated.authority,
          requirement_digest: check.challenge.requirement_digest,
          policy_stack_hash: admitted.stack.stackHash,
        },
      };
    }
    // Every stage passed: now, and only now, burn the delegation nonce (atomic check-and-set).
    const session = admitted.delegated.session;
    if (session !== null && this.delegations?.consumeNonce(session.id, session.nonceKey) !== true) {
      return deny('DELEGATION_INVALID', 'delegation');
    }
    return ALLOW;
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
    const ledger = this.gates.budget;
    if (!ledger) throw new GuardianError('BUDGET_RESERVATION_UNKNOWN', 'no budget ledger configured');
    ledger.commit(reservationId);
  }

  /** Refund a budget reservation after a failed execution. */
  refundBudget(reservationId: string): void {
    const ledger = this.gates.budget;
    if (!ledger) throw new GuardianError('BUDGET_RESERVATION_UNKNOWN', 'no budget ledger configured');
    ledger.refund(reservationId);
  }

  /** Hash of the policy stack in force. */
  policyHash(): string {
    return this.policy?.stackHash ?? UNCONFIGURED_STACK_HASH;
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
