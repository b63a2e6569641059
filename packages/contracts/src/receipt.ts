// Receipt (`helm.receipt.v1`): the signed, causally chained proof of one governed call, allowed or
// denied. Normative: docs/spec/receipt.md. Produced and verified by @helm/receipts.
//
// receipt_id = digest(canonicalBytes(body without `receipt_id`)).
// receipt hash = digest(raw 64-byte Ed25519 signature of the envelope) ("PrevHash = the previous
//   receipt's signature" of the security model); the next receipt of the same chain carries it as
//   `prev_hash` (the rule is applied by soleSignatureDigest of @helm/crypto). The first receipt of a
//   chain carries RECEIPT_GENESIS_PREV_HASH and lamport 1; every receipt increments lamport by one.
// Trust binding: every receipt names, under its own signature, the trust registry state it was
// signed under (`trust_seq`, `trust_head`): its key must be valid for the receipt-signer role at
// that registry sequence number, and `trust_head` must be the registry's head digest there.

import type { RiskTier } from './effect.js';
import type { ReasonCode } from './reason-codes.js';
import type { Verdict } from './verdict.js';

export const RECEIPT_TYPE = 'helm.receipt.v1';

/** `prev_hash` of the first receipt of every chain: `sha256:` followed by 64 zeros. */
export const RECEIPT_GENESIS_PREV_HASH = `sha256:${'0'.repeat(64)}`;

/**
 * What happened to the call: SUCCEEDED (driver ran, output released), DENIED (refused before
 * execution), FAILED (execution or output validation failed; nothing released), ESCALATED (held for
 * approval).
 */
export const RECEIPT_STATUSES = ['SUCCEEDED', 'DENIED', 'FAILED', 'ESCALATED'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** Pattern of a chain id: 1–128 chars of `[A-Za-z0-9._:-]`. */
export const CHAIN_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/** Pattern of an evidence field name (and of a receipt policy's required evidence): `[a-z][a-z0-9_]{0,63}`. */
export const EVIDENCE_KEY_PATTERN = '^[a-z][a-z0-9_]{0,63}$';

/** Evidence values: a string, or a list of strings (e.g. approval ids), all signed with the receipt. */
export type ReceiptEvidenceValue = string | readonly string[];

export interface ReceiptBody {
  readonly type: typeof RECEIPT_TYPE;
  /** digest(JCS(body without receipt_id)). */
  readonly receipt_id: string;
  /** The chain this receipt belongs to (one chain per session/executor, caller-chosen). */
  readonly chain_id: string;
  /** Lamport clock: 1 for the first receipt of the chain, previous + 1 afterwards. */
  readonly lamport: number;
  /** Receipt hash of the previous receipt of this chain, or RECEIPT_GENESIS_PREV_HASH. */
  readonly prev_hash: string;
  /** decision_id of the guardian decision this call was governed by. */
  readonly decision_id: string;
  /** Effect digest (docs/spec/effect.md); null when no effect could be constructed. */
  readonly effect_id: string | null;
  /** Effect class, e.g. `fs.write`. */
  readonly effect_class: string;
  readonly status: ReceiptStatus;
  readonly verdict: Verdict;
  readonly reason_code: ReasonCode;
  /** digest(JCS(args)); null when the arguments were not representable JSON. */
  readonly args_hash: string | null;
  /**
   * digest(JCS(request)) of the governed call's request as the executor read it (docs/spec/
   * pipeline.md §Request digest); null when that request was not representable JSON.
   */
  readonly request_digest: string | null;
  /** digest(JCS(output)) of the released output; null when no output was released. */
  readonly output_hash: string | null;
  /** Key id of the receipt signer (must equal the envelope signature's keyid). */
  readonly keyid: string;
  /**
   * Trust registry sequence number (events applied, genesis = 1) the receipt was signed under: the
   * key must hold the receipt-signer role there. Never decreases along a chain.
   */
  readonly trust_seq: number;
  /** The registry head digest at `trust_seq` (the event digest of event `trust_seq`). */
  readonly trust_head: string;
  readonly session_id: string | null;
  /** digest of the policy stack the decision was made under. */
  readonly policy_hash: string;
  readonly tool: string;
  readonly principal: string;
  readonly risk_tier: RiskTier;
  /** Injected-clock time the receipt was issued. */
  readonly issued_at_ms: number;
  /** Extra evidence a receipt policy requires (idempotency key, approval ids, …). */
  readonly evidence: Readonly<Record<string, ReceiptEvidenceValue>>;
}

/** Every field of a receipt body, all required (the schema's `required` and the verifiers' field set). */
export const RECEIPT_FIELDS = [
  'type',
  'receipt_id',
  'chain_id',
  'lamport',
  'prev_hash',
  'decision_id',
  'effect_id',
  'effect_class',
  'status',
  'verdict',
  'reason_code',
  'args_hash',
  'request_digest',
  'output_hash',
  'keyid',
  'trust_seq',
  'trust_head',
  'session_id',
  'policy_hash',
  'tool',
  'principal',
  'risk_tier',
  'issued_at_ms',
  'evidence',
] as const;
