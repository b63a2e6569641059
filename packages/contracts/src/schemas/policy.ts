// JSON Schema of policy (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: ../policy.ts.
import { EFFECT_TYPE_PATTERN } from '../effect.js';
import { BUDGET_WINDOWS, P0_CEILING_TYPE, POLICY_BUNDLE_TYPE, POLICY_OVERLAY_TYPE } from '../policy.js';
import { NAT, safeInt } from './parts.js';

const ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' } as const;
const SCALAR = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;
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
        ttl_ms: safeInt(1),
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
      items: { type: 'string', pattern: EFFECT_TYPE_PATTERN },
    },
    budgets: BUDGETS,
    max_delegation_ttl_ms: safeInt(1),
    require_delegation_mfa: { type: 'boolean' },
  },
} as const;
