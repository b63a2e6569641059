// The ten stages of the guardian chain (docs/spec/decision.md §Stages), one function each, named
// as in the spec and in `GATE_STAGES`, in chain order (stage 6 `effect` checks nothing and has
// none). Each is a pure function of its arguments — the parsed call, the results of earlier stages
// and the loaded state (`GateState`) — and the injected clock. None reserves, consumes, opens or
// signs anything: the stages that lead to a write (budget, approval, the delegation nonce) return
// what the commit phase (`Guardian#commit`) will write, never the write itself.
//
// One observation is not a decision input: `DelegationRegistry#check` emits a `delegation.expired`
// trust event the first time it sees a session past its expiry (it changes no later verdict).
import { EFFECT_TYPE, type Effect } from '@helm/contracts/effect';
import type { ApprovalRequirement, BudgetLimits } from '@helm/contracts/policy';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import { canonicalDigest, effectDigest } from '@helm/crypto/digests';
import { digest } from '@helm/crypto/hash';
import type { ApprovalCeremonies, ChallengeInput } from '../approval.js';
import { type BudgetCharge, type BudgetLedger, budgetAccount } from '../budget.js';
import type { DelegationRegistry } from '../delegation.js';
import { EGRESS_EFFECT_TYPES, type EgressPolicy } from '../egress.js';
import type { FreezeSwitch } from '../freeze.js';
import type { BoundIdentity } from '../identity.js';
import type { PolicyStack } from '../policy.js';
import { type DecisionRequest, validateRequest } from '../request.js';
import { scanInputs, type ThreatScanConfig } from '../threat.js';
import { resourceDefect } from './resource.js';

/** `sha256("")`: the record's hashes when the request could not be hashed. */
export const EMPTY_DIGEST = digest(new Uint8Array());

/**
 * The guardian's configuration as the stages see it, fixed at construction (`undefined` = stage not
 * configured). The policy stack, which a reload replaces, is passed to `policy` on its own.
 */
export interface GateState {
  readonly freeze: FreezeSwitch | undefined;
  readonly fingerprint: string | undefined;
  readonly credentials: ReadonlyMap<string, BoundIdentity> | undefined;
  readonly egress: EgressPolicy | undefined;
  readonly threat: ThreatScanConfig | undefined;
  readonly delegations: DelegationRegistry | undefined;
  readonly budget: BudgetLedger | undefined;
  readonly approvals: ApprovalCeremonies | undefined;
}

/** `digest(JCS(value))`, or null when the value is not JSON (cyclic, NaN, lone surrogate, …). */
export function safeDigest(value: unknown): string | null {
  try {
    return canonicalDigest(value);
  } catch {
    return null;
  }
}

/** The hashes a record binds whatever the verdict: args and request (args replaced by its hash). */
export interface RequestHashes {
  /** null when the args are not JSON (the record then binds EMPTY_DIGEST). */
  readonly argsHash: string | null;
  /** EMPTY_DIGEST when the request is not JSON. */
  readonly requestHash: string;
}

export function hashRequest(req: Partial<DecisionRequest>): RequestHashes {
  const { args, ...rest } = req;
  const argsHash = safeDigest(args);
  const requestHash = safeDigest({ ...rest, args_hash: argsHash ?? EMPTY_DIGEST }) ?? EMPTY_DIGEST;
  return { argsHash, requestHash };
}

/** A request that passed the request schema, with the effect it describes. */
export interface ParsedCall {
  readonly request: DecisionRequest;
  readonly tenant: string | null;
  readonly effect: Effect;
  readonly effectDigest: string;
}

/** What stage `delegation` established: whose authority policy evaluates, and the nonce to burn. */
export interface Delegated {
  /** The principal itself, or the delegator of a delegated call. */
  readonly authority: string;
  /** The presented session and its nonce, burned by the commit phase; null without delegation. */
  readonly session: { readonly id: string; readonly nonceKey: string } | null;
}

/** A call policy admitted, with what stages 1–7 established for it (stages 8 and 9 read it). */
export interface Admitted {
  readonly call: ParsedCall;
  readonly delegated: Delegated;
  /** The stack that admitted it. */
  readonly stack: PolicyStack;
  /** The approval requirement of the matching rules, if any. */
  readonly approval: (ApprovalRequirement & { readonly rule_id: string }) | null;
}

/** What stage `budget` asks the commit phase to reserve. */
export interface BudgetPlan {
  readonly ledger: BudgetLedger;
  readonly charges: readonly BudgetCharge[];
  readonly amount: number;
}

/** What stage `approval` asks the commit phase to run: a ceremony, or nothing (no requirement). */
export interface ApprovalPlan {
  readonly ceremonies: ApprovalCeremonies;
  readonly input: ChallengeInput | null;
}

/** An own property only: names like `constructor` or `__proto__` must never reach Object.prototype. */
function ownValue<T>(map: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Stage 0 `frozen`: the kill switch exists and is released. */
export function frozen(s: GateState): ReasonCode | null {
  if (!s.freeze) return 'GATE_NOT_CONFIGURED';
  return s.freeze.frozen ? 'GATE_FROZEN' : null;
}

/**
 * Stage 1 `context`, first half: the request passes the request schema and its `args_hash` is the
 * recomputed one (null = ARGS_MALFORMED). The effect is built here, from the validated request, so
 * that every later record — a context denial included — binds its digest.
 */
export function parseCall(req: unknown, hashes: RequestHashes): ParsedCall | null {
  const { argsHash, requestHash } = hashes;
  if (argsHash === null || requestHash === EMPTY_DIGEST || !validateRequest(req)) return null;
  const r = req as DecisionRequest;
  if (r.args_hash !== argsHash) return null;
  const effect: Effect = {
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
  return { request: r, tenant: r.tenant ?? null, effect, effectDigest: effectDigest(effect) };
}

/**
 * Stage 1 `context`, second half: bound to the same environment, and the resource is canonical for
 * its kind before any scope or rule sees it (I-RESOURCE-1).
 */
export function context(call: ParsedCall, s: GateState): ReasonCode | null {
  if (s.fingerprint === undefined) return 'GATE_NOT_CONFIGURED';
  // Absent or not a string is a mismatch too: this stage owns the field, not the request schema.
  const fingerprint: unknown = call.request.context.environment_fingerprint;
  if (typeof fingerprint !== 'string' || fingerprint !== s.fingerprint) return 'GATE_CONTEXT_MISMATCH';
  return resourceDefect(call.request.resource) === null ? null : 'RESOURCE_NONCANONICAL';
}

/**
 * Stage 2 `identity`: the credential is bound to the principal, and — for a credential bound to
 * tenants — to the tenant too (keys, budgets, approvals and stored results are namespaced by it).
 */
export function identity(call: ParsedCall, s: GateState): ReasonCode | null {
  if (!s.credentials) return 'GATE_NOT_CONFIGURED';
  // No credential, or one that is not a string, is bound to no one: this stage's denial.
  const credential: unknown = call.request.context.credential_id;
  if (typeof credential !== 'string') return 'GATE_IDENTITY_ISOLATION';
  const bound = s.credentials.get(credential);
  if (bound === undefined || bound.principal !== call.request.principal) return 'GATE_IDENTITY_ISOLATION';
  if (bound.tenants !== undefined && !bound.tenants.has(call.tenant)) return 'GATE_IDENTITY_ISOLATION';
  return null;
}

/** Stage 3 `egress`: a destination must be allowed; an egress effect class must name one. */
export function egress(call: ParsedCall, s: GateState): ReasonCode | null {
  if (!s.egress) return 'GATE_NOT_CONFIGURED';
  const destination = call.request.context.destination;
  const denied = destination
    ? !s.egress.allows(destination)
    : EGRESS_EFFECT_TYPES.includes(call.request.effect_type);
  return denied ? 'GATE_EGRESS_DENIED' : null;
}

/** Stage 4 `threat`: scan the untrusted inputs that reached the agent. */
export function threat(call: ParsedCall, s: GateState): ReasonCode | null {
  if (!s.threat) return 'GATE_NOT_CONFIGURED';
  const inputs = call.request.context.inputs;
  return inputs && inputs.length > 0 ? scanInputs(inputs, s.threat) : null;
}

/**
 * Stage 5 `delegation`: validate a presented session (read-only; its nonce is burned only by the
 * commit phase, after every later stage passed). Without a presentation the principal acts as
 * itself.
 */
export function delegation(call: ParsedCall, s: GateState): Delegated | ReasonCode {
  if (!s.delegations) return 'GATE_NOT_CONFIGURED';
  const r = call.request;
  if (r.context.delegation === undefined) return { authority: r.principal, session: null };
  const check = s.delegations.check(r.context.delegation, {
    principal: r.principal,
    tenant: call.tenant,
    tool: r.tool,
    action: r.action,
    resource: r.resource,
    effect_type: r.effect_type,
  });
  if (!check.ok) return check.code;
  return {
    authority: check.session.delegator,
    session: { id: check.session.session_id, nonceKey: check.nonceKey },
  };
}

// Stage 6 `effect` has no function: it checks nothing. The effect is a pure function of the
// validated request, built by `parseCall` in stage 1 `context` (docs/spec/effect.md).

/**
 * Stage 7 `policy`: PRG + PDP, P0 ∩ P1 ∩ P2 evaluated for the authority (the delegator of a
 * delegated call); every proof kind the matching rules require must be present.
 */
export function policy(
  call: ParsedCall,
  delegated: Delegated,
  stack: PolicyStack | undefined,
): Admitted | ReasonCode {
  if (!stack) return 'NO_POLICY';
  const r = call.request;
  const outcome = stack.evaluate({
    principal: delegated.authority,
    tenant: call.tenant,
    tool: r.tool,
    action: r.action,
    resource: r.resource,
    effect_type: r.effect_type,
    risk_tier: r.risk_tier,
    args: r.args,
    context: r.context.attributes ?? {},
  });
  if (!outcome.allowed) return outcome.code;
  const proofs = r.context.proofs ?? [];
  if (outcome.proofs.some((p) => !proofs.includes(p))) return 'PRG_REQUIREMENT_MISSING';
  return { call, delegated, stack, approval: outcome.approval };
}

/**
 * Stage 8 `budget`: the accounts to charge — the authority, and the tenant of a call with one — on
 * P0's budgets and on those of every P1 bundle that has some, each in its window at `now` (the
 * decision's clock reading), with each one's ceiling. The reservation itself is the first write
 * of the commit phase (BUDGET_EXCEEDED comes from there).
 */
export function budget(admitted: Admitted, s: GateState, now: number): BudgetPlan | ReasonCode {
  if (!s.budget) return 'GATE_NOT_CONFIGURED';
  const { call, delegated, stack } = admitted;
  const authority = delegated.authority;
  const charges: BudgetCharge[] = [];
  const charge = (limits: BudgetLimits, bundle?: string): void => {
    const window = limits.window ?? 'fixed';
    charges.push({
      account: budgetAccount(`principal:${authority}`, window, now, bundle),
      ceiling: ownValue(limits.principals, authority) ?? limits.default_principal_max,
    });
    if (call.tenant !== null) {
      charges.push({
        account: budgetAccount(`tenant:${call.tenant}`, window, now, bundle),
        ceiling: ownValue(limits.tenants, call.tenant) ?? limits.default_tenant_max,
      });
    }
  };
  charge(stack.p0.budgets);
  for (const bundle of stack.bundles) if (bundle.budgets !== undefined) charge(bundle.budgets, bundle.name);
  return { ledger: s.budget, charges, amount: call.request.cost ?? 1 };
}

/**
 * Stage 9 `approval`: the ceremony input when policy requires approval (the ceremony itself —
 * reuse or open a challenge, or find its grant — runs in the commit phase).
 */
export function approval(admitted: Admitted, s: GateState): ApprovalPlan | ReasonCode {
  if (!s.approvals) return 'GATE_NOT_CONFIGURED';
  const { call, delegated, stack, approval: requirement } = admitted;
  if (requirement === null) return { ceremonies: s.approvals, input: null };
  const r = call.request;
  return {
    ceremonies: s.approvals,
    input: {
      principal: r.principal,
      authority: delegated.authority,
      tenant: call.tenant,
      tool: r.tool,
      action: r.action,
      resource: r.resource,
      effect_digest: call.effectDigest,
      args_hash: call.effect.args_hash,
      policy_bundle_hash: stack.bundleHash,
      p0_ceiling_hash: stack.p0Hash,
      requirement,
    },
  };
}
