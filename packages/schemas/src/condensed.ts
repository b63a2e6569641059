// JSON Schema of condensed (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (condensed.ts).
import {
  CHAIN_ID_PATTERN,
  CONDENSED_ENTRY_FIELDS,
  CONDENSED_ENTRY_TYPE,
  LOG_LEAF_TYPE,
  RISK_TIERS,
} from '@helm/contracts';
import { DIGEST, NAT, safeInt } from './parts.js';

export const condensedEntrySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.condensed.v1.json',
  title: 'CondensedEntry',
  description: 'A LOW-tier receipt replaced by its Merkle inclusion proof (docs/spec/condensed-entry.md).',
  type: 'object',
  additionalProperties: false,
  required: [...CONDENSED_ENTRY_FIELDS],
  properties: {
    type: { const: CONDENSED_ENTRY_TYPE },
    log_id: { type: 'string', pattern: CHAIN_ID_PATTERN },
    leaf_index: NAT,
    lamport: safeInt(1),
    entry_hash: DIGEST,
    prev_hash: DIGEST,
    risk_tier: { enum: [...RISK_TIERS] },
    leaf_hash: DIGEST,
    inclusion_proof: { type: 'array', items: DIGEST, maxItems: 64 },
    checkpoint_hash: DIGEST,
    tree_size: safeInt(1),
  },
} as const;

export const logLeafSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.log_leaf.v1.json',
  title: 'LogLeaf',
  description: 'The Merkle leaf data of one checkpointed log entry (docs/spec/condensed-entry.md).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'lamport', 'entry_hash', 'prev_hash', 'risk_tier'],
  properties: {
    type: { const: LOG_LEAF_TYPE },
    lamport: safeInt(1),
    entry_hash: DIGEST,
    prev_hash: DIGEST,
    risk_tier: { enum: [...RISK_TIERS] },
  },
} as const;
