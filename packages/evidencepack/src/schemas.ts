// JSON Schema of `index.json` (`helm.evidencepack.index.v1`, docs/spec/evidencepack.md §3): the
// artifacts in force — policies, tool descriptors, JSON Schemas and WASM modules — each list sorted
// by path. Every field is required and nothing else is allowed.
import { DIGEST_PATTERN } from '@helm/contracts';
import { INDEX_TYPE } from './export.js';

const digestField = { type: 'string', pattern: DIGEST_PATTERN } as const;
const text = { type: 'string' } as const;
const artifactPath = (dir: string, ext: string) =>
  ({ type: 'string', pattern: `^${dir}/[0-9a-f]{64}\\.${ext}$` }) as const;

export const evidencePackIndexSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.evidencepack.index.v1.json',
  title: 'EvidencePack index',
  description: 'The artifacts in force in an EvidencePack (docs/spec/evidencepack.md §3).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'policies', 'tools', 'schemas', 'modules'],
  properties: {
    type: { const: INDEX_TYPE },
    policies: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'name', 'version', 'digest', 'path'],
        properties: {
          kind: text,
          name: text,
          version: text,
          digest: digestField,
          path: artifactPath('policies', 'json'),
        },
      },
    },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'descriptor_digest', 'path', 'input_schema', 'output_schema', 'driver'],
        properties: {
          name: text,
          descriptor_digest: digestField,
          path: artifactPath('tools', 'json'),
          input_schema: digestField,
          output_schema: digestField,
          driver: { type: ['object', 'null'] },
        },
      },
    },
    schemas: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['digest', 'path'],
        properties: { digest: digestField, path: artifactPath('schemas', 'json') },
      },
    },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'digest', 'path'],
        properties: { name: text, digest: digestField, path: artifactPath('modules', 'wasm') },
      },
    },
  },
} as const;
