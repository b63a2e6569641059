// The JSON Schemas of the shape checks (src/internal/shapes.ts): the contracts schemas the verifier
// applies whole, and the entry-kind shapes of this package. codegen/validators.ts generates their
// precompiled validators (src/internal/generated/validators.ts) from this set (#25).
import { DIGEST_PATTERN } from '@helm/contracts';
import { condensedEntrySchema, SignedEnvelopeSchema, trustSnapshotSchema } from '@helm/schemas';
import {
  evidencePackEntriesSchema,
  evidencePackIndexSchema,
  evidencePackManifestSchema,
} from '../schemas.js';

const int = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const str = { type: 'string' } as const;

/** The receipt body fields this package reads (the receipt verifier checks the whole body). */
export const receiptFields = {
  type: 'object',
  required: [
    'lamport',
    'chain_id',
    'prev_hash',
    'decision_id',
    'args_hash',
    'verdict',
    'reason_code',
    'tool',
    'principal',
    'keyid',
    'trust_seq',
    'trust_head',
    'request_digest',
  ],
  properties: {
    lamport: int,
    chain_id: str,
    prev_hash: str,
    decision_id: str,
    args_hash: { type: ['string', 'null'] },
    verdict: str,
    reason_code: str,
    tool: str,
    principal: str,
    keyid: str,
    trust_seq: int,
    trust_head: str,
    request_digest: { type: ['string', 'null'] },
  },
} as const;

/** The decision body fields this package (and replay) reads; the signature covers the rest. */
export const decisionFields = {
  type: 'object',
  required: ['decision_id', 'verdict', 'reason_code', 'args_hash'],
  properties: {
    decision_id: str,
    verdict: str,
    reason_code: str,
    args_hash: str,
    tool: str,
    principal: str,
    decided_at_ms: int,
  },
} as const;

export const nodeDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['envelope'],
  properties: { envelope: { type: 'object' }, payload: {} },
} as const;
export const nodeFields = { type: 'object', required: ['lamport'], properties: { lamport: int } } as const;
export const anyObject = { type: 'object' } as const;

export const consistency = {
  type: 'array',
  items: { type: 'array', maxItems: 64, items: { type: 'string', pattern: DIGEST_PATTERN } },
} as const;

/**
 * `{"request": ExecuteRequest, "clock_ms": n, …}`: the runtime may add fields, and a call recovered
 * after a crash may have no request recorded.
 */
export const recordedRequest = {
  type: 'object',
  properties: { request: { type: 'object' }, clock_ms: int, expected_reason_code: str },
} as const;

/** Every schema a shape check applies, by the name of its generated validator (`validate_<name>`). */
export const SHAPE_SCHEMAS = {
  envelope: SignedEnvelopeSchema,
  manifest: evidencePackManifestSchema,
  entries: evidencePackEntriesSchema,
  trustSnapshot: trustSnapshotSchema,
  condensed: condensedEntrySchema,
  index: evidencePackIndexSchema,
  consistency,
  receiptFields,
  decisionFields,
  nodeDocument,
  nodeFields,
  anyObject,
  recordedRequest,
} as const;
