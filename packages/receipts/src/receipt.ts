// Building and signing one receipt (normative: docs/spec/receipt.md).
import {
  RECEIPT_GENESIS_PREV_HASH,
  RECEIPT_TYPE,
  type ReasonCode,
  type ReceiptBody,
  type ReceiptEvidenceValue,
  type ReceiptStatus,
  type RiskTier,
  type SignedEnvelope,
  type Verdict,
} from '@helm/contracts';
import { canonicalize, digest, fromBase64Url, preAuthEncoding, type Signer, toBase64Url } from '@helm/crypto';
import { ReceiptError } from './errors.js';
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
  readonly output_hash: string | null;
  readonly session_id: string | null;
  readonly policy_hash: string;
  readonly tool: string;
  readonly principal: string;
  readonly risk_tier: RiskTier;
  /** From the injected clock; the TCB never reads ambient time. */
  readonly issued_at_ms: number;
  readonly evidence?: Readonly<Record<string, ReceiptEvidenceValue>>;
}

/** The state a chain continues from: the last receipt's lamport and hash (genesis: 0 and zeros). */
export interface ChainHead {
  readonly chain_id: string;
  readonly lamport: number;
  readonly hash: string;
}

export interface MintedReceipt {
  readonly envelope: SignedEnvelope;
  readonly body: ReceiptBody;
  /** Receipt hash (docs/spec/receipt.md): what the next receipt carries as prev_hash. */
  readonly hash: string;
}

/** The head of a chain that has no receipts yet. */
export function genesisHead(chainId: string): ChainHead {
  return { chain_id: chainId, lamport: 0, hash: RECEIPT_GENESIS_PREV_HASH };
}

const encoder = new TextEncoder();
const RISK_TIER_MEMBER = ',"risk_tier":';

/**
 * Canonical text of a body with its receipt_id, given the canonical text of the body without it.
 * JCS sorts members, so `receipt_id` sits right before the top-level `risk_tier` member (the last
 * occurrence: only `evidence`, which sorts earlier, can contain nested members).
 */
function insertReceiptId(
  canonicalWithoutId: string,
  bytesWithoutId: Uint8Array,
  receiptId: string,
): Uint8Array {
  const at = canonicalWithoutId.lastIndexOf(RISK_TIER_MEMBER);
  // Splice in bytes: only the (short) tail is re-encoded to find the byte offset.
  const tail = encoder.encode(canonicalWithoutId.slice(at));
  const member = encoder.encode(`,"receipt_id":"${receiptId}"`);
  const head = bytesWithoutId.length - tail.length;
  const out = new Uint8Array(bytesWithoutId.length + member.length);
  out.set(bytesWithoutId.subarray(0, head), 0);
  out.set(member, head);
  out.set(tail, head + member.length);
  return out;
}

/** Build, validate and sign the receipt that follows `head`. Deterministic: same inputs, same bytes. */
export function mintReceipt(input: ReceiptInput, head: ChainHead, signer: Signer): MintedReceipt {
  const withoutId = {
    type: RECEIPT_TYPE,
    chain_id: head.chain_id,
    lamport: head.lamport + 1,
    prev_hash: head.hash,
    decision_id: input.decision_id,
    effect_id: input.effect_id,
    effect_class: input.effect_class,
    status: input.status,
    verdict: input.verdict,
    reason_code: input.reason_code,
    args_hash: input.args_hash,
    output_hash: input.output_hash,
    keyid: signer.keyId,
    session_id: input.session_id,
    policy_hash: input.policy_hash,
    tool: input.tool,
    principal: input.principal,
    risk_tier: input.risk_tier,
    issued_at_ms: input.issued_at_ms,
    evidence: input.evidence ?? {},
  };
  const problem = receiptBodyProblem(withoutId, false);
  if (problem) throw new ReceiptError('RECEIPT_INPUT_INVALID', problem);
  const canonicalWithoutId = canonicalize(withoutId);
  const bytesWithoutId = encoder.encode(canonicalWithoutId);
  const receiptId = digest(bytesWithoutId);
  const payload = insertReceiptId(canonicalWithoutId, bytesWithoutId, receiptId);
  const sig = signer.sign(preAuthEncoding(RECEIPT_TYPE, payload));
  const envelope: SignedEnvelope = {
    type: RECEIPT_TYPE,
    payload: toBase64Url(payload),
    signatures: [{ keyid: signer.keyId, sig: toBase64Url(sig) }],
  };
  const body = Object.assign(withoutId, { receipt_id: receiptId }) as ReceiptBody;
  return { envelope, body, hash: digest(sig) };
}

/**
 * The receipt hash of a signed receipt envelope (docs/spec/receipt.md §Receipt hash): the SHA-256
 * of the raw 64-byte Ed25519 signature — "PrevHash = the previous receipt's signature". The
 * signature is strict and deterministic, so it stands for exactly one (key, payload). Undefined
 * when the envelope does not carry exactly one well-formed signature.
 */
export function receiptHash(envelope: SignedEnvelope): string | undefined {
  const only = envelope.signatures.length === 1 ? envelope.signatures[0] : undefined;
  const sig = only ? fromBase64Url(only.sig) : undefined;
  return sig && sig.length === 64 ? digest(sig) : undefined;
}
