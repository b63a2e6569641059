// The decision request's JSON Schema (docs/spec/decision.md §Request). Its own module, importing
// only contracts, so that codegen/validators.ts can load it to generate the precompiled validator.
import { DIGEST_PATTERN } from '@helm/contracts/wire';

const STR = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const SCALAR = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;

export const decisionRequestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.decision.request.v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'principal',
    'tool',
    'action',
    'resource',
    'effect_type',
    'risk_tier',
    'args',
    'args_hash',
    'context',
  ],
  properties: {
    principal: STR,
    tenant: { anyOf: [STR, { type: 'null' }] },
    tool: { type: 'string', minLength: 1, maxLength: 256 },
    action: { type: 'string', minLength: 1, maxLength: 256 },
    resource: { type: 'string', maxLength: 4096 },
    effect_type: { type: 'string', maxLength: 128, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
    risk_tier: { enum: ['HIGH', 'MEDIUM', 'LOW'] },
    args: true,
    args_hash: { type: 'string', pattern: DIGEST_PATTERN },
    cost: { type: 'integer', minimum: 0, maximum: 1000000000000 },
    context: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // Gate-owned fields: any JSON here; stages 1, 2 and 5 decide (see DecisionContext).
        environment_fingerprint: true,
        credential_id: true,
        destination: {
          type: 'object',
          additionalProperties: false,
          required: ['host', 'protocol', 'payload_bytes'],
          properties: {
            host: STR,
            protocol: { type: 'string', minLength: 1, maxLength: 32 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            payload_bytes: { type: 'integer', minimum: 0, maximum: 9007199254740991 },
          },
        },
        inputs: {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['source', 'trust', 'text'],
            properties: {
              source: STR,
              trust: { enum: ['trusted', 'internal', 'untrusted'] },
              text: { type: 'string', maxLength: 1048576 },
            },
          },
        },
        delegation: true,
        attributes: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,7}$' },
          additionalProperties: SCALAR,
        },
        proofs: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 128 } },
      },
    },
  },
} as const;
