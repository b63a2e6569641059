// Structural validation of a receipt body (the rules of receiptSchema plus the cross-field rules of
// docs/spec/receipt.md §Consistency). Returns a description of the first problem, or undefined.
import { EFFECT_TYPE_PATTERN, RISK_TIERS } from '@helm/contracts/effect';
import { isReasonCode, REASON_CODES } from '@helm/contracts/reason-codes';
import {
  CHAIN_ID_PATTERN,
  EVIDENCE_KEY_PATTERN,
  RECEIPT_FIELDS,
  RECEIPT_GENESIS_PREV_HASH,
  RECEIPT_STATUSES,
  RECEIPT_TYPE,
} from '@helm/contracts/receipt';
import { VERDICTS } from '@helm/contracts/verdict';
import { isKeyId } from '@helm/crypto/ed25519';
import { isDigest } from '@helm/crypto/hash';
import { isSafeInt } from '@helm/crypto/json';

const CHAIN_ID = new RegExp(CHAIN_ID_PATTERN);
const EFFECT_CLASS = new RegExp(EFFECT_TYPE_PATTERN);
const EVIDENCE_KEY = new RegExp(EVIDENCE_KEY_PATTERN);

const FIELD_SET: ReadonlySet<string> = new Set(RECEIPT_FIELDS);

/** The verdict every status implies. */
export const STATUS_VERDICT = {
  SUCCEEDED: 'ALLOW',
  DENIED: 'DENY',
  FAILED: 'DENY',
  ESCALATED: 'ESCALATE',
} as const;

function isStr(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

function nullableDigest(v: unknown): boolean {
  return v === null || isDigest(v);
}

function checkEvidence(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'evidence must be an object';
  const keys = Object.keys(e);
  if (keys.length > 64) return 'evidence has more than 64 fields';
  for (const k of keys) {
    if (!EVIDENCE_KEY.test(k)) return `evidence field name ${JSON.stringify(k)} is invalid`;
    const v = (e as Record<string, unknown>)[k];
    if (typeof v === 'string') {
      if (v.length > 4096) return `evidence.${k} is too long`;
      if (k === 'approval_ids') return 'evidence.approval_ids must be a list';
    } else if (Array.isArray(v)) {
      if (v.length > 256) return `evidence.${k} has too many items`;
      for (const item of v) if (!isStr(item, 0, 4096)) return `evidence.${k} items must be strings`;
      // approval_ids: distinct and sorted by UTF-16 code units (`<` on strings), the producer's rule.
      if (k === 'approval_ids')
        for (let i = 1; i < v.length; i++)
          if (!((v[i - 1] as string) < (v[i] as string)))
            return 'evidence.approval_ids must be distinct and sorted by UTF-16 code units';
    } else {
      return `evidence.${k} must be a string or a list of strings`;
    }
  }
  return undefined;
}

/**
 * Validate everything except `receipt_id` (checked by the caller, who knows whether it is present).
 * `withId` says whether the body must carry a receipt_id field.
 */
export function receiptBodyProblem(body: unknown, withId: boolean): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be an object';
  const b = body as Record<string, unknown>;
  // Every known field is type-checked below (undefined fails each check), so an exact member count
  // rules out unknown members without a per-key lookup.
  if (Object.keys(b).length !== (withId ? RECEIPT_FIELDS.length : RECEIPT_FIELDS.length - 1)) {
    for (const k of Object.keys(b))
      if (!FIELD_SET.has(k) || (!withId && k === 'receipt_id')) return `unknown field ${k}`;
    for (const k of RECEIPT_FIELDS)
      if (!(k in b) && (withId || k !== 'receipt_id')) return `missing field ${k}`;
  }
  if (!withId && 'receipt_id' in b) return 'unknown field receipt_id';
  if (b.type !== RECEIPT_TYPE) return 'type must be helm.receipt.v1';
  if (withId && !isDigest(b.receipt_id)) return 'receipt_id';
  if (!(typeof b.chain_id === 'string' && CHAIN_ID.test(b.chain_id))) return 'chain_id';
  if (!isSafeInt(b.lamport, 1)) return 'lamport must be a positive safe integer';
  if (!isDigest(b.prev_hash)) return 'prev_hash';
  if (!isDigest(b.decision_id)) return 'decision_id';
  if (!nullableDigest(b.effect_id)) return 'effect_id';
  if (
    !(typeof b.effect_class === 'string' && b.effect_class.length <= 128 && EFFECT_CLASS.test(b.effect_class))
  )
    return 'effect_class';
  if (!(RECEIPT_STATUSES as readonly unknown[]).includes(b.status)) return 'status';
  if (!(VERDICTS as readonly unknown[]).includes(b.verdict)) return 'verdict';
  if (!isReasonCode(b.reason_code)) return 'reason_code is not a registered reason code';
  if (!nullableDigest(b.args_hash)) return 'args_hash';
  if (!nullableDigest(b.request_digest)) return 'request_digest';
  if (!nullableDigest(b.output_hash)) return 'output_hash';
  if (!isKeyId(b.keyid)) return 'keyid';
  if (!isSafeInt(b.trust_seq, 1)) return 'trust_seq must be a positive safe integer';
  if (!isDigest(b.trust_head)) return 'trust_head';
  if (!(b.session_id === null || isStr(b.session_id, 1, 256))) return 'session_id';
  if (!isDigest(b.policy_hash)) return 'policy_hash';
  if (!isStr(b.tool, 1, 256)) return 'tool';
  if (!isStr(b.principal, 1, 1024)) return 'principal';
  if (!(RISK_TIERS as readonly unknown[]).includes(b.risk_tier)) return 'risk_tier';
  if (!isSafeInt(b.issued_at_ms, 0)) return 'issued_at_ms must be a non-negative safe integer';
  const evidenceProblem = checkEvidence(b.evidence);
  if (evidenceProblem) return evidenceProblem;
  // Cross-field consistency (docs/spec/receipt.md §Consistency).
  const status = b.status as keyof typeof STATUS_VERDICT;
  if (STATUS_VERDICT[status] !== b.verdict)
    return `status ${status} requires verdict ${STATUS_VERDICT[status]}`;
  if (REASON_CODES[b.reason_code as keyof typeof REASON_CODES].verdict !== b.verdict)
    return `reason_code ${String(b.reason_code)} does not belong to verdict ${String(b.verdict)}`;
  if ((status === 'SUCCEEDED') !== (b.output_hash !== null))
    return 'output_hash is present exactly when status is SUCCEEDED';
  if (b.lamport === 1 && b.prev_hash !== RECEIPT_GENESIS_PREV_HASH)
    return 'lamport 1 requires the genesis prev_hash';
  if (b.lamport !== 1 && b.prev_hash === RECEIPT_GENESIS_PREV_HASH)
    return 'genesis prev_hash requires lamport 1';
  return undefined;
}
