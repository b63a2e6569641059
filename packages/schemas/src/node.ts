// JSON Schema of node (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (node.ts).
import { MAX_NODE_PARENTS, NODE_FIELDS, NODE_KIND_PATTERN, NODE_TYPE } from '@helm/contracts';
import { DIGEST, KEY_ID, NAT, safeInt } from './parts.js';

export const nodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.node.v1.json',
  title: 'ProofGraphNode',
  description: 'Signed ProofGraph DAG node (docs/spec/node.md).',
  type: 'object',
  additionalProperties: false,
  required: [...NODE_FIELDS],
  properties: {
    type: { const: NODE_TYPE },
    kind: { type: 'string', pattern: NODE_KIND_PATTERN },
    parents: {
      type: 'array',
      items: DIGEST,
      maxItems: MAX_NODE_PARENTS,
      uniqueItems: true,
    },
    lamport: safeInt(1),
    principal: { type: 'string', minLength: 1, maxLength: 1024 },
    payload_hash: DIGEST,
    keyid: KEY_ID,
    issued_at_ms: NAT,
  },
} as const;
