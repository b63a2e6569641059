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

const ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' } as const;
const SCALAR = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;
const NAT = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;
const FIELD_PATH = '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,7}$';

export const policyMatchSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.policy.match.v1.json',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    eq: SCALAR,
    in: { type: 'array', items: SCALAR, maxItems: 4096 },
    prefix: { type: 'string', maxLength: 4096 },
    glob: { type: 'string', maxLength: 1024 },
    lt: { type: 'number' },
    lte: { type: 'number' },
    gt: { type: 'number' },
    gte: { type: 'number' },
  },
} as const;

const MATCH_REF = { $ref: 'helm.policy.match.v1.json' } as const;
const FIELD_MAP = {
  type: 'object',
  maxProperties: 64,
  propertyNames: { pattern: FIELD_PATH },
  additionalProperties: MATCH_REF,
} as const;

export const policyRuleSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.policy.rule.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'effect', 'when'],
  properties: {
    id: ID,
    effect: { enum: ['allow', 'deny'] },
    description: { type: 'string', maxLength: 1024 },
    when: {
      type: 'object',
      additionalProperties: false,
      properties: {
        principal: MATCH_REF,
        tenant: MATCH_REF,
        tool: MATCH_REF,
        action: MATCH_REF,
        resource: MATCH_REF,
        effect_type: MATCH_REF,
        risk_tier: MATCH_REF,
        args: FIELD_MAP,
        context: FIELD_MAP,
      },
    },
    requires_approval: {
      type: 'object',
      additionalProperties: false,
      required: ['quorum', 'role', 'timelock_ms', 'ttl_ms'],
      properties: {
        quorum: { type: 'integer', minimum: 1, maximum: 64 },
        role: { type: 'string', minLength: 1, maxLength: 128 },
        timelock_ms: NAT,
        ttl_ms: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
        emergency_quorum: { type: 'integer', minimum: 2, maximum: 64 },
      },
    },
    requires_proofs: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 128 },
      maxItems: 32,
      uniqueItems: true,
    },
  },
} as const;

const RULES = { type: 'array', items: { $ref: 'helm.policy.rule.v1.json' }, maxItems: 100000 } as const;

const BUDGETS = {
  type: 'object',
  additionalProperties: false,
  required: ['default_principal_max', 'default_tenant_max'],
  properties: {
    default_principal_max: NAT,
    default_tenant_max: NAT,
    principals: { type: 'object', additionalProperties: NAT },
    tenants: { type: 'object', additionalProperties: NAT },
    window: { enum: [...BUDGET_WINDOWS] },
  },
} as const;

export const policyBundleSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.policy.bundle.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'name', 'version', 'rules'],
  properties: {
    type: { const: POLICY_BUNDLE_TYPE },
    name: ID,
    version: NAT,
    rules: RULES,
    budgets: BUDGETS,
  },
} as const;

export const policyOverlaySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.policy.overlay.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'name', 'rules'],
  properties: {
    type: { const: POLICY_OVERLAY_TYPE },
    name: ID,
    rules: RULES,
  },
} as const;

export const p0CeilingSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.policy.p0.v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'type',
    'name',
    'forbidden_effect_types',
    'budgets',
    'max_delegation_ttl_ms',
    'require_delegation_mfa',
  ],
  properties: {
    type: { const: P0_CEILING_TYPE },
    name: ID,
    forbidden_effect_types: {
      type: 'array',
      uniqueItems: true,
      maxItems: 1024,
      items: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
    },
    budgets: BUDGETS,
    max_delegation_ttl_ms: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
    require_delegation_mfa: { type: 'boolean' },
  },
} as const;
