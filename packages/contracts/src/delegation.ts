// Delegation sessions (normative: docs/spec/delegation.md). A session lets a delegate (an agent)
// act for a delegator (a human) within explicit grants. `session_id` =
// digest(canonicalBytes(body without session_id)); the body is signed by the guardian as a
// `helm.delegation.v1` envelope.

import type { PolicyMatch } from './policy.js';
import { DIGEST_PATTERN } from './wire.js';

export const DELEGATION_TYPE = 'helm.delegation.v1';

/** One explicit capability. `tool` is mandatory and must be `eq` or `in` (a finite set). */
export interface DelegationGrant {
  readonly tool: PolicyMatch;
  readonly action?: PolicyMatch;
  readonly resource?: PolicyMatch;
  readonly effect_type?: PolicyMatch;
}

export interface DelegationSession {
  readonly type: typeof DELEGATION_TYPE;
  readonly session_id: string;
  readonly delegator: string;
  readonly delegate: string;
  readonly tenant: string | null;
  readonly grants: readonly DelegationGrant[];
  readonly created_at_ms: number;
  readonly expires_at_ms: number;
  /** PKCE: base64url(SHA-256(ASCII(code_verifier))), no padding. */
  readonly code_challenge: string;
  readonly code_challenge_method: 'S256';
  readonly mfa_verified: boolean;
  /** Policy stack the grants were checked against at creation. */
  readonly policy_stack_hash: string;
}

/** What a delegate presents with each call (inside the decision request context). */
export interface DelegationPresentation {
  readonly session_id: string;
  readonly code_verifier: string;
  /** One-time nonce; consumed only when the call is allowed. */
  readonly nonce: string;
}

const DIGEST = { type: 'string', pattern: DIGEST_PATTERN } as const;
const MS = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;
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
    created_at_ms: MS,
    expires_at_ms: MS,
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
