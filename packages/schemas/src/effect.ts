// JSON Schema of effect (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (effect.ts).
import { EFFECT_TYPE, EFFECT_TYPE_PATTERN, RISK_TIERS } from '@helm/contracts';
import { DIGEST } from './parts.js';

export const EffectSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.effect.v1.json',
  title: 'Effect',
  description: 'The concrete side effect of one admissible tool call (docs/spec/effect.md).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'effect_type', 'tool', 'action', 'resource', 'principal', 'args_hash', 'risk_tier'],
  properties: {
    type: { const: EFFECT_TYPE },
    effect_type: { type: 'string', pattern: EFFECT_TYPE_PATTERN, maxLength: 128 },
    tool: { type: 'string', minLength: 1, maxLength: 256 },
    action: { type: 'string', minLength: 1, maxLength: 256 },
    resource: { type: 'string', maxLength: 4096 },
    principal: { type: 'string', minLength: 1, maxLength: 1024 },
    args_hash: DIGEST,
    destination: { type: 'string', minLength: 1, maxLength: 2048 },
    risk_tier: { enum: [...RISK_TIERS] },
  },
} as const;
