// Building and signing one receipt (normative: docs/spec/receipt.md).
import type { RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReasonCode } from '@helm/contracts/reason-codes';
import {
  RECEIPT_TYPE,
  type ReceiptBody,
  type ReceiptEvidenceValue,
  type ReceiptStatus,
} from '@helm/contracts/receipt';
import type { Verdict } from '@helm/contracts/verdict';
import type { Signer } from '@helm/crypto/ed25519';
import { signIdentifiedEnvelope } from '@helm/crypto/envelope-sign';
import { ReceiptError } from './errors.js';
import { type ChainHead, receiptHash } from './head.js';
import { receiptBodyProblem } from './internal/validate.js';

/** What the caller supplies for one receipt; chain position, ids and key come from the chain. */
export interface ReceiptInput {
  readonly decision_id: string;
  readonly effect_id: string | null;
  readonly effect_class: string;
  readonly status: ReceiptStatus;
  readonly verdict: Verdict;
  readonly reason_code: ReasonCode;
  readonly args_hash: string | null;
  /** digest(JCS(request)) of the governed call's request; null when not representable. */
  readonly request_digest: string | null;
  readonly output_hash: string | null;
  readonly session_id: string | null;
  readonly policy_hash: string;
  readonly tool: string;
  readonly principal: string;
  readonly risk_tier: RiskTier;
  /** From the injected clock; the TCB never reads ambient time. */
  readonly issued_at_ms: number;
  /** Trust registry sequence number the receipt is signed under (its key must be valid there). */
  readonly trust_seq: number;
  /** The registry head digest at `trust_seq`. */
  readonly trust_head: string;
  readonly evidence?: Readonly<Record<string, ReceiptEvidenceValue>>;
}

export interface MintedReceipt {
  readonly envelope: SignedEnvelope;
  readonly body: ReceiptBody;
  /** Receipt hash (docs/spec/receipt.md): what the next receipt carries as prev_hash. */
  readonly hash: string;
}

/**
 * Build, validate and sign the receipt that follows `head`. Deterministic: same inputs, same bytes.
 * receipt_id = digest(JCS(body without receipt_id)) and the signed payload is JCS(body with it).
 */
export function mintReceipt(input: ReceiptInput, head: ChainHead, signer: Signer): MintedReceipt {
  // Members in canonical (sorted) order, so canonicalization has nothing to reorder.
  const withoutId = {
    args_hash: input.args_hash,
    chain_id: head.chain_id,
    decision_id: input.decision_id,
    effect_class: input.effect_class,
    effect_id: input.effect_id,
    evidence: input.evidence ?? {},
    issued_at_ms: input.issued_at_ms,
    keyid: signer.keyId,
    lamport: head.lamport + 1,
    output_hash: input.output_hash,
    policy_hash: input.policy_hash,
    prev_hash: head.hash,
    principal: input.principal,
    reason_code: input.reason_code,
    request_digest: input.request_digest,
    risk_tier: input.risk_tier,
    session_id: input.session_id,
    status: input.status,
    tool: input.tool,
    trust_head: input.trust_head,
    trust_seq: input.trust_seq,
    type: RECEIPT_TYPE,
    verdict: input.verdict,
  };
  const problem = receiptBodyProblem(withoutId, false);
  if (problem) throw new ReceiptError('RECEIPT_INPUT_INVALID', problem);
  const signed = signIdentifiedEnvelope(withoutId, 'receipt_id', [signer]);
  // signIdentifiedEnvelope checked the one signature is 64 bytes, so the hash is defined.
  const hash = receiptHash(signed.envelope) as string;
  return { envelope: signed.envelope, body: signed.body as ReceiptBody, hash };
}
