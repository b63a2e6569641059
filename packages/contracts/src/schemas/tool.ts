// JSON Schema of tool (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: ../tool.ts.
import { EFFECT_TYPE_PATTERN } from '../effect.js';
import { MAX_TOOL_TIMEOUT_MS, TOOL_DESCRIPTOR_TYPE, TOOL_NAME_PATTERN } from '../tool.js';

export const toolDescriptorSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.tool.v1.json',
  title: 'HELM ToolDescriptor',
  description: 'One tool on the declared surface (docs/spec/tool-descriptor.md).',
  type: 'object',
  additionalProperties: false,
  required: [
    'type',
    'name',
    'description',
    'input_schema',
    'output_schema',
    'effect_type',
    'risk_tier',
    'action',
    'driver',
  ],
  properties: {
    type: { const: TOOL_DESCRIPTOR_TYPE },
    name: { type: 'string', pattern: TOOL_NAME_PATTERN, minLength: 1, maxLength: 256 },
    description: { type: 'string', maxLength: 4096 },
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: { type: 'string', pattern: EFFECT_TYPE_PATTERN, maxLength: 128 },
    risk_tier: { enum: ['HIGH', 'MEDIUM', 'LOW'] },
    action: { type: 'string', minLength: 1, maxLength: 256 },
    resource_pointer: { type: 'string', pattern: '^(/([^~/]|~[01])*)*$', maxLength: 1024 },
    destination: { type: 'string', pattern: '^[a-z][a-z0-9+.-]*://[^/?#@\\s]+$', maxLength: 2048 },
    cost: { type: 'integer', minimum: 0, maximum: 1000000000000 },
    driver: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'ref', 'timeout_ms'],
      properties: {
        kind: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$', maxLength: 64 },
        ref: { type: 'string', minLength: 1, maxLength: 2048 },
        timeout_ms: { type: 'integer', minimum: 1, maximum: MAX_TOOL_TIMEOUT_MS },
      },
    },
  },
} as const;
