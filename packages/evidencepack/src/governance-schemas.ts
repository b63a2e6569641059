// JSON Schemas of governance events and cursors (docs/spec/governance-event.md): data for
// validators and the server's OpenAPI document. Types and constants: governance.ts.
import { CHAIN_ID_PATTERN, DIGEST_PATTERN } from '@helm/contracts';
import { GOVERNANCE_ACTIONS, GOVERNANCE_CURSOR_TYPE, GOVERNANCE_EVENT_TYPE } from './governance.js';

const DIGEST = { type: 'string', pattern: DIGEST_PATTERN } as const;
/** An integer ≥ `minimum` that every JSON consumer reads exactly (at most 2^53 − 1). */
const safeInt = <const M extends number>(minimum: M) =>
  ({ type: 'integer', minimum, maximum: 9007199254740991 }) as const;
const NAT = safeInt(0);

export const governanceEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.governance.event.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'action', 'trust_anchor', 'chain_id', 'signed_at_ms', 'nonce', 'body'],
  properties: {
    type: { const: GOVERNANCE_EVENT_TYPE },
    action: { enum: [...GOVERNANCE_ACTIONS] },
    trust_anchor: DIGEST,
    chain_id: { type: 'string', pattern: CHAIN_ID_PATTERN },
    signed_at_ms: NAT,
    nonce: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    body: { type: 'object' },
  },
} as const;

export const governanceCursorSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.governance.cursor.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'trust_anchor', 'chain_id', 'seq', 'log_chain', 'applied_chain', 'trust_seq'],
  properties: {
    type: { const: GOVERNANCE_CURSOR_TYPE },
    trust_anchor: DIGEST,
    chain_id: { type: 'string', pattern: CHAIN_ID_PATTERN },
    seq: NAT,
    log_chain: DIGEST,
    applied_chain: DIGEST,
    trust_seq: safeInt(1),
  },
} as const;
