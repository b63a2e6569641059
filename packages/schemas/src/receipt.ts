// JSON Schema of receipt (data for external validators; the receipt verifier checks the same rules
// in code, receipts/src/internal/validate.ts, and never reads it). Types and constants:
// @helm/contracts/receipt.
import { EFFECT_TYPE_PATTERN, RISK_TIERS } from '@helm/contracts/effect';
import {
  CHAIN_ID_PATTERN,
  EVIDENCE_KEY_PATTERN,
  RECEIPT_FIELDS,
  RECEIPT_STATUSES,
  RECEIPT_TYPE,
} from '@helm/contracts/receipt';
import { VERDICTS } from '@helm/contracts/verdict';
import { DIGEST, KEY_ID, NAT, NULLABLE_DIGEST, safeInt } from './parts.js';

/**
 * Options a JSON Schema validator (ajv) must use for `receiptSchema`: string lengths
 * (`minLength` / `maxLength`) count UTF-16 code units — JavaScript `length`, a character outside
 * the BMP counts 2 — as the receipt verifier does (docs/spec/receipt.md §String lengths). ajv's
 * default (`unicode: true`) counts code points and would accept strings the verifier rejects.
 */
export const RECEIPT_SCHEMA_VALIDATOR_OPTIONS = { unicode: false } as const;

export const receiptSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.receipt.v1.json',
  title: 'Receipt',
  description: 'Signed, causally chained receipt of one governed call (docs/spec/receipt.md).',
  $comment:
    'String lengths count UTF-16 code units (validate with ajv option unicode: false, RECEIPT_SCHEMA_VALIDATOR_OPTIONS); evidence.approval_ids is distinct and sorted by UTF-16 code units (checked by the receipt verifier).',
  type: 'object',
  additionalProperties: false,
  required: [...RECEIPT_FIELDS],
  properties: {
    type: { const: RECEIPT_TYPE },
    receipt_id: DIGEST,
    chain_id: { type: 'string', pattern: CHAIN_ID_PATTERN },
    lamport: safeInt(1),
    prev_hash: DIGEST,
    decision_id: DIGEST,
    effect_id: NULLABLE_DIGEST,
    effect_class: { type: 'string', pattern: EFFECT_TYPE_PATTERN, maxLength: 128 },
    status: { enum: [...RECEIPT_STATUSES] },
    verdict: { enum: [...VERDICTS] },
    reason_code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', maxLength: 64 },
    args_hash: NULLABLE_DIGEST,
    request_digest: NULLABLE_DIGEST,
    output_hash: NULLABLE_DIGEST,
    keyid: KEY_ID,
    trust_seq: safeInt(1),
    trust_head: DIGEST,
    session_id: { anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'null' }] },
    policy_hash: DIGEST,
    tool: { type: 'string', minLength: 1, maxLength: 256 },
    principal: { type: 'string', minLength: 1, maxLength: 1024 },
    risk_tier: { enum: [...RISK_TIERS] },
    issued_at_ms: NAT,
    evidence: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: EVIDENCE_KEY_PATTERN },
      additionalProperties: {
        anyOf: [
          { type: 'string', maxLength: 4096 },
          { type: 'array', items: { type: 'string', maxLength: 4096 }, maxItems: 256 },
        ],
      },
    },
  },
} as const;
