// JSON Schema of checkpoint (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (checkpoint.ts).
import { CHAIN_ID_PATTERN, CHECKPOINT_FIELDS, CHECKPOINT_TYPE } from '@helm/contracts';
import { DIGEST, KEY_ID, NAT, safeInt } from './parts.js';

export const checkpointSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.checkpoint.v1.json',
  title: 'Checkpoint',
  description: 'Signed RFC 9162 Merkle tree head over an append-only log (docs/spec/checkpoint.md).',
  type: 'object',
  additionalProperties: false,
  required: [...CHECKPOINT_FIELDS],
  properties: {
    type: { const: CHECKPOINT_TYPE },
    log_id: { type: 'string', pattern: CHAIN_ID_PATTERN },
    tree_size: safeInt(1),
    root_hash: DIGEST,
    lamport_from: safeInt(1),
    lamport_to: safeInt(1),
    prev_checkpoint_hash: DIGEST,
    prev_tree_size: NAT,
    anchor_required: { type: 'boolean' },
    keyid: KEY_ID,
    issued_at_ms: NAT,
  },
} as const;
