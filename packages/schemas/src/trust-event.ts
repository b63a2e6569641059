// JSON Schema of trust-event (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (trust-event.ts).
import {
  TRUST_EVENT_KINDS,
  TRUST_EVENT_TYPE,
  TRUST_ROLES,
  TRUST_SNAPSHOT_TYPE,
  TRUST_STATE_TYPE,
  type TrustEventKind,
} from '@helm/contracts';
import { DIGEST, KEY_ID, safeInt } from './parts.js';

/** A registry sequence number (genesis = 1). */
const HEIGHT = safeInt(1);
const NULLABLE_HEIGHT = { anyOf: [HEIGHT, { type: 'null' }] } as const;
const ROLE = { enum: [...TRUST_ROLES] } as const;
const REGISTRY = { type: 'string', minLength: 1, maxLength: 128 } as const;
const KEY_REF = {
  type: 'object',
  additionalProperties: false,
  required: ['keyid', 'public_key'],
  properties: { keyid: KEY_ID, public_key: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
} as const;
const COMMON_REQUIRED = ['type', 'kind', 'registry', 'seq', 'prev'] as const;
const COMMON_PROPERTIES = {
  type: { const: TRUST_EVENT_TYPE },
  registry: REGISTRY,
  seq: HEIGHT,
  prev: DIGEST,
} as const;

function eventVariant(kind: TrustEventKind, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: [...COMMON_REQUIRED, ...Object.keys(extra)],
    properties: { ...COMMON_PROPERTIES, kind: { const: kind }, ...extra },
  };
}

export const trustEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.trust.event.v1.json',
  title: 'HELM trust registry event',
  type: 'object',
  required: [...COMMON_REQUIRED],
  properties: { type: { const: TRUST_EVENT_TYPE }, kind: { enum: [...TRUST_EVENT_KINDS] } },
  oneOf: [
    eventVariant('genesis', {
      root_keys: { type: 'array', minItems: 1, maxItems: 64, items: KEY_REF },
      root_threshold: { type: 'integer', minimum: 1, maximum: 64 },
    }),
    eventVariant('key_publish', {
      key: KEY_REF,
      roles: { type: 'array', maxItems: TRUST_ROLES.length, uniqueItems: true, items: ROLE },
    }),
    eventVariant('key_rotate', { keyid: KEY_ID, new_key: KEY_REF }),
    eventVariant('key_revoke', { keyid: KEY_ID }),
    eventVariant('role_grant', { keyid: KEY_ID, role: ROLE }),
    eventVariant('role_revoke', { keyid: KEY_ID, role: ROLE }),
    eventVariant('root_threshold_set', { threshold: { type: 'integer', minimum: 1, maximum: 64 } }),
  ],
} as const;

const ENVELOPE = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'payload', 'signatures'],
  properties: {
    type: { const: TRUST_EVENT_TYPE },
    payload: { type: 'string', pattern: '^[A-Za-z0-9_-]*$' },
    signatures: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['keyid', 'sig'],
        properties: { keyid: { type: 'string' }, sig: { type: 'string', pattern: '^[A-Za-z0-9_-]*$' } },
      },
    },
  },
} as const;

export const trustStateSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.trust.state.v1.json',
  title: 'HELM trust registry state',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'registry', 'genesis', 'head', 'seq', 'root_threshold', 'keys'],
  properties: {
    type: { const: TRUST_STATE_TYPE },
    registry: REGISTRY,
    genesis: DIGEST,
    head: DIGEST,
    seq: HEIGHT,
    root_threshold: { type: 'integer', minimum: 1, maximum: 64 },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'keyid',
          'public_key',
          'published_at',
          'revoked_at',
          'revocation',
          'rotated_to',
          'rotated_from',
          'roles',
        ],
        properties: {
          keyid: KEY_ID,
          public_key: KEY_REF.properties.public_key,
          published_at: HEIGHT,
          revoked_at: NULLABLE_HEIGHT,
          revocation: { enum: ['revoked', 'rotated', null] },
          rotated_to: { anyOf: [KEY_ID, { type: 'null' }] },
          rotated_from: { anyOf: [KEY_ID, { type: 'null' }] },
          roles: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['role', 'granted_at', 'revoked_at'],
              properties: { role: ROLE, granted_at: HEIGHT, revoked_at: NULLABLE_HEIGHT },
            },
          },
        },
      },
    },
  },
} as const;

export const trustSnapshotSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.trust.snapshot.v1.json',
  title: 'HELM trust registry snapshot',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'registry', 'genesis', 'head', 'seq', 'state_hash', 'events'],
  properties: {
    type: { const: TRUST_SNAPSHOT_TYPE },
    registry: REGISTRY,
    genesis: DIGEST,
    head: DIGEST,
    seq: HEIGHT,
    state_hash: DIGEST,
    events: { type: 'array', minItems: 1, items: ENVELOPE },
  },
} as const;
