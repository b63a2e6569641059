// The HELM policy language (normative: docs/spec/policy.md): P0 ceilings, P1 bundles (signed,
// content-addressed) and P2 overlays (narrow only). Declarative and decidable: a rule is a
// conjunction of matchers over a fixed vocabulary; matchers are equality, membership, prefix,
// `*`-glob (linear-time, no regular expressions) and numeric comparisons.

export const P0_CEILING_TYPE = 'helm.policy.p0.v1';
export const POLICY_BUNDLE_TYPE = 'helm.policy.bundle.v1';
export const POLICY_OVERLAY_TYPE = 'helm.policy.overlay.v1';

export type PolicyScalar = string | number | boolean;

/** A matcher: every operator present must hold (conjunction). At least one operator. */
export interface PolicyMatch {
  readonly eq?: PolicyScalar;
  readonly in?: readonly PolicyScalar[];
  readonly prefix?: string;
  /** `*` matches any (possibly empty) run of characters; every other character is literal. */
  readonly glob?: string;
  readonly lt?: number;
  readonly lte?: number;
  readonly gt?: number;
  readonly gte?: number;
}

/** The fixed attribute vocabulary a rule can test. */
export interface PolicyWhen {
  readonly principal?: PolicyMatch;
  readonly tenant?: PolicyMatch;
  readonly tool?: PolicyMatch;
  readonly action?: PolicyMatch;
  readonly resource?: PolicyMatch;
  readonly effect_type?: PolicyMatch;
  readonly risk_tier?: PolicyMatch;
  /** Dotted paths into the call arguments (declared in the load-time vocabulary). */
  readonly args?: Readonly<Record<string, PolicyMatch>>;
  /** Context attributes (declared in the load-time vocabulary). */
  readonly context?: Readonly<Record<string, PolicyMatch>>;
}

export interface ApprovalRequirement {
  /** M of the M-of-N quorum (distinct, verified approvers). */
  readonly quorum: number;
  /** Role an approver key must hold. */
  readonly role: string;
  /** Earliest activation after the challenge is created (guardian clock). */
  readonly timelock_ms: number;
  /** Challenge lifetime. */
  readonly ttl_ms: number;
  /** Emergency override quorum: must exceed `quorum`; skips the timelock; always flagged for review. */
  readonly emergency_quorum?: number;
}

export interface PolicyRule {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly description?: string;
  readonly when: PolicyWhen;
  /** Allow rules only: the call is held (ESCALATE) until an approval grant for it exists. */
  readonly requires_approval?: ApprovalRequirement;
  /** Allow rules only: proof kinds (PRG) the call context must carry. */
  readonly requires_proofs?: readonly string[];
}

/**
 * How long a budget allowance lasts (docs/spec/policy.md §Budgets): `fixed` never refills (only an
 * administrative reset restores it); `minute`, `hour` and `day` refill at every multiple of 60 000,
 * 3 600 000 and 86 400 000 ms of the guardian's clock (UTC-aligned tumbling windows).
 */
export const BUDGET_WINDOWS = ['fixed', 'minute', 'hour', 'day'] as const;
export type BudgetWindow = (typeof BUDGET_WINDOWS)[number];

/** Budget ceilings per principal (the authority exercised) and per tenant, over one window. */
export interface BudgetLimits {
  /** Ceiling for any principal without an explicit entry. */
  readonly default_principal_max: number;
  /** Ceiling for any tenant without an explicit entry. */
  readonly default_tenant_max: number;
  readonly principals?: Readonly<Record<string, number>>;
  readonly tenants?: Readonly<Record<string, number>>;
  /** Default `fixed`. */
  readonly window?: BudgetWindow;
}

export interface P0Ceiling {
  readonly type: typeof P0_CEILING_TYPE;
  readonly name: string;
  /** Effect classes nobody may cause, whatever P1/P2 say. */
  readonly forbidden_effect_types: readonly string[];
  readonly budgets: BudgetLimits;
  /** Maximum TTL of a delegation session. */
  readonly max_delegation_ttl_ms: number;
  /** Delegation sessions must be created with MFA. */
  readonly require_delegation_mfa: boolean;
}

export interface PolicyBundle {
  readonly type: typeof POLICY_BUNDLE_TYPE;
  readonly name: string;
  readonly version: number;
  readonly rules: readonly PolicyRule[];
  /**
   * Budgets of this bundle, charged on accounts of their own next to P0's: a call must fit both,
   * so a bundle's budgets only narrow (e.g. an hourly rate under a fixed P0 ceiling).
   */
  readonly budgets?: BudgetLimits;
}

export interface PolicyOverlay {
  readonly type: typeof POLICY_OVERLAY_TYPE;
  readonly name: string;
  /** Deny rules, and allow rules that form an allowlist the call must also match (narrowing). */
  readonly rules: readonly PolicyRule[];
}
