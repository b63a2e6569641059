// JSON Schema of delegation (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: ../delegation.ts.
import { DELEGATION_TYPE } from '../delegation.js';
import { DIGEST, NAT } from './parts.js';

const MATCH_REF = { $ref: 'helm.policy.match.v1.json' } as const;

export const delegationGrantSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.delegation.grant.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['tool'],
  properties: { tool: MATCH_REF, action: MATCH_REF, resource: MATCH_REF, effect_type: MATCH_REF },
} as const;

export const delegationSessionSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.delegation.v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'type',
    'session_id',
    'delegator',
    'delegate',
    'tenant',
    'grants',
    'created_at_ms',
    'expires_at_ms',
    'code_challenge',
    'code_challenge_method',
    'mfa_verified',
    'policy_stack_hash',
  ],
  properties: {
    type: { const: DELEGATION_TYPE },
    session_id: DIGEST,
    delegator: { type: 'string', minLength: 1 },
    delegate: { type: 'string', minLength: 1 },
    tenant: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    grants: { type: 'array', items: { $ref: 'helm.delegation.grant.v1.json' }, maxItems: 256 },
    created_at_ms: NAT,
    expires_at_ms: NAT,
    code_challenge: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' },
    code_challenge_method: { const: 'S256' },
    mfa_verified: { type: 'boolean' },
    policy_stack_hash: DIGEST,
  },
} as const;

export const delegationPresentationSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.delegation.presentation.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'code_verifier', 'nonce'],
  properties: {
    session_id: DIGEST,
    code_verifier: { type: 'string', pattern: '^[A-Za-z0-9._~-]{43,128}$' },
    nonce: { type: 'string', minLength: 16, maxLength: 256 },
  },
} as const;
