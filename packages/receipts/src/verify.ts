// Offline receipt-chain verification (normative: docs/spec/receipt.md §Verification).
//
// Two phases so that the expensive part can run anywhere (e.g. a worker pool outside the TCB):
//   1. verifyReceiptSignatures(slice): per receipt, independent of the others — decode, validate,
//      recompute receipt_id and receipt hash, check the key and the Ed25519 signature. Pure.
//   2. linkReceipts(summaries): a cheap sequential pass — duplicates, chain id, prev_hash links,
//      Lamport +1, trust_seq never decreasing, and the expected head (truncation).
// Each receipt's key is looked up at the receipt's own `trust_seq` — the trust registry state it
// committed to under its signature — never at a height derived from its Lamport clock.
// The first failure (smallest index; at one index phase 1 before phase 2) is reported.
import type { RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { RECEIPT_GENESIS_PREV_HASH, RECEIPT_TYPE, type ReceiptBody } from '@helm/contracts/receipt';
import type { RoleKeyLookup } from '@helm/contracts/wire';
import { canonicalDigest } from '@helm/crypto/digests';
import { verifyEd25519 } from '@helm/crypto/ed25519';
import { type OpenedEnvelope, openEnvelope } from '@helm/crypto/envelope-open';
import { CryptoError } from '@helm/crypto/errors';
import { digest } from '@helm/crypto/hash';
import { type ChainHead, receiptHash } from './head.js';

/** The chain head type `from` and `expectedHead` take, re-exported for `@helm/receipts/verify` users. */
export type { ChainHead };

import { receiptBodyProblem } from './internal/validate.js';

/** The role a receipt signing key must hold (passed to the key lookup). */
export const RECEIPT_SIGNER_ROLE = 'receipt-signer';

/**
 * Resolves the public key for `keyid` valid for `role` at trust registry sequence number `seq` (the
 * receipt's own `trust_seq`), or undefined. The receipt's `trust_head` is not checked here: a
 * verifier holding the registry checks it equals the registry's head digest at `trust_seq` (e.g.
 * `TrustRegistry#headAt`). The one key-lookup shape of HELM (`RoleKeyLookup` of @helm/contracts).
 */
export type ReceiptKeyLookup = RoleKeyLookup;

export type ReceiptVerifyCode =
  | 'MALFORMED'
  | 'KEY_UNKNOWN'
  | 'KEYID_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'RECEIPT_ID_MISMATCH'
  | 'DUPLICATE'
  | 'CHAIN_ID_MISMATCH'
  | 'CHAIN_BROKEN'
  | 'LAMPORT_REGRESSION'
  | 'LAMPORT_GAP'
  | 'TRUST_SEQ_REGRESSION'
  | 'TRUNCATED'
  | 'HEAD_MISMATCH';

export interface ReceiptFailure {
  readonly code: ReceiptVerifyCode;
  /** Index into the verified sequence (for TRUNCATED: the position of the first missing receipt). */
  readonly index: number;
  readonly message: string;
}

/** What phase 1 learns about one receipt; plain data, cheap to send between threads. */
export interface ReceiptSummary {
  /** The receipt hash, digest(raw signature) (docs/spec/receipt.md §Receipt hash): the next prev_hash. */
  readonly hash: string;
  readonly receipt_id: string;
  readonly chain_id: string;
  readonly lamport: number;
  readonly prev_hash: string;
  readonly keyid: string;
  readonly risk_tier: RiskTier;
  /** The trust registry sequence number the receipt committed to. */
  readonly trust_seq: number;
  /** The registry head digest at `trust_seq` the receipt committed to. */
  readonly trust_head: string;
}

export interface SignatureCheckResult {
  /** Summaries of the receipts before the first failure (all of them when there is none). */
  readonly summaries: ReceiptSummary[];
  readonly failure?: ReceiptFailure;
}

export type ReceiptCheck =
  | { readonly ok: true; readonly body: ReceiptBody; readonly summary: ReceiptSummary }
  | { readonly ok: false; readonly code: ReceiptVerifyCode; readonly message: string };

function fail(code: ReceiptVerifyCode, message: string): ReceiptCheck {
  return { ok: false, code, message };
}

/**
 * Receipts have no size limit of their own in docs/spec/receipt.md (every field is bounded by the
 * body rules), so the decoder's byte limit is lifted; the depth limit is the default (a valid body
 * is three levels deep).
 */
const RECEIPT_LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER } as const;

/**
 * Phase 1 for one receipt envelope (docs/spec/receipt.md §Verification, steps 1–6). Never throws.
 *
 * @example
 * ```ts
 * import { verifyReceipt } from '@helm/receipts/verify';
 *
 * declare const envelope: unknown;
 * declare const keys: (keyid: string, role: string, seq: number) => Uint8Array | undefined;
 * const check = verifyReceipt(envelope, keys); // never throws
 * if (check.ok) console.log(check.body.lamport, check.summary.hash);
 * else console.log(check.code, check.message);
 * ```
 */
export function verifyReceipt(envelope: unknown, keys: ReceiptKeyLookup): ReceiptCheck {
  // 1–2. envelope shape, canonical base64url, strict canonical JSON payload
  let opened: OpenedEnvelope<ReceiptBody>;
  try {
    opened = openEnvelope<ReceiptBody>(envelope, RECEIPT_TYPE, { maxSignatures: 1, limits: RECEIPT_LIMITS });
  } catch (error) {
    return fail('MALFORMED', error instanceof CryptoError ? error.message : 'not an envelope');
  }
  const problem = receiptBodyProblem(opened.body, true);
  if (problem) return fail('MALFORMED', problem);
  const b = opened.body;
  const { keyid, sig } = opened.signatures[0] as { keyid: string; sig: Uint8Array };
  // 3–5. key id, key valid for the role at the receipt's own trust_seq, signature
  if (b.keyid !== keyid) return fail('KEYID_MISMATCH', 'body keyid differs from the signature keyid');
  const key = keys(b.keyid, RECEIPT_SIGNER_ROLE, b.trust_seq);
  if (!key)
    return fail(
      'KEY_UNKNOWN',
      `no key ${b.keyid} for role ${RECEIPT_SIGNER_ROLE} at trust seq ${b.trust_seq}`,
    );
  if (!verifyEd25519(key, opened.pae, sig).ok) {
    return fail('SIGNATURE_INVALID', 'the receipt signature does not verify');
  }
  // 6. receipt_id = digest(JCS(body without receipt_id))
  const { receipt_id, ...withoutId } = b;
  if (canonicalDigest(withoutId) !== receipt_id) {
    return fail('RECEIPT_ID_MISMATCH', 'receipt_id is not the digest of the body');
  }
  const summary: ReceiptSummary = {
    hash: digest(sig),
    receipt_id,
    chain_id: b.chain_id,
    lamport: b.lamport,
    prev_hash: b.prev_hash,
    keyid: b.keyid,
    risk_tier: b.risk_tier,
    trust_seq: b.trust_seq,
    trust_head: b.trust_head,
  };
  return { ok: true, body: b, summary };
}

/**
 * Phase 1 over a slice: every per-receipt check of verifyReceipt (structure, canonical form, body
 * rules, key, signature, receipt_id — not only the signatures), stopping at the first failure.
 * Pure (no shared state), so slices can be checked concurrently. `offset` is added to reported
 * indices.
 */
export function verifyReceiptSignatures(
  slice: readonly unknown[],
  keys: ReceiptKeyLookup,
  offset = 0,
): SignatureCheckResult {
  const summaries: ReceiptSummary[] = [];
  for (let i = 0; i < slice.length; i++) {
    const r = verifyReceipt(slice[i], keys);
    if (!r.ok) return { summaries, failure: { code: r.code, index: offset + i, message: r.message } };
    summaries.push(r.summary);
  }
  return { summaries };
}

export interface LinkOptions {
  /** The head the first receipt continues from; default: the genesis of the first receipt's chain. */
  readonly from?: ChainHead;
  /** The chain the receipts must belong to; default: the first receipt's chain (or `from`'s). */
  readonly chainId?: string;
  /** The head the sequence must end at; detects truncation of the tail. */
  readonly expectedHead?: ChainHead;
}

export type ChainVerifyResult =
  | { readonly ok: true; readonly head: ChainHead; readonly count: number }
  | ({ readonly ok: false } & ReceiptFailure);

/**
 * The sequential link rules (docs/spec/receipt.md §Offline chain verification, steps 7–11 and the
 * expected head), one receipt at a time. Shared by linkReceipts (over phase-1 summaries, e.g. from
 * worker slices) and verifyReceiptChain (streaming: nothing is kept per receipt; on a link failure
 * the receipts before it are looked up again to tell a duplicate).
 */
class ChainLinker {
  readonly chainId: string;
  head: ChainHead;
  /** trust_seq of the last linked receipt (1 before the first: nothing is known before `from`). */
  trustSeq = 1;
  /** Hash and receipt_id of the linked receipt at a position before the current one. */
  readonly #prior: (index: number) => { readonly hash: string; readonly receipt_id: string };

  constructor(
    options: LinkOptions,
    first: ReceiptSummary | undefined,
    prior: (index: number) => { readonly hash: string; readonly receipt_id: string },
  ) {
    this.chainId = options.chainId ?? options.from?.chain_id ?? first?.chain_id ?? '';
    this.head = options.from ?? { chain_id: this.chainId, lamport: 0, hash: RECEIPT_GENESIS_PREV_HASH };
    this.#prior = prior;
  }

  #seen(s: ReceiptSummary, i: number): boolean {
    for (let k = 0; k < i; k++) {
      const p = this.#prior(k);
      if (p.hash === s.hash || p.receipt_id === s.receipt_id) return true;
    }
    return false;
  }

  /** Link receipt `i`; a failure, or undefined when it extends the chain (the head moves). */
  step(s: ReceiptSummary, i: number): ChainVerifyResult | undefined {
    const head = this.head;
    if (
      s.chain_id === this.chainId &&
      s.prev_hash === head.hash &&
      s.lamport === head.lamport + 1 &&
      s.trust_seq >= this.trustSeq
    ) {
      // A receipt seen before cannot get here: its lamport is that of an earlier linked receipt,
      // and linked lamports strictly increase. So the duplicate check (step 7, which comes first)
      // only needs to run when a later check fails — over the receipts before it, looked up then.
      this.head = { chain_id: this.chainId, lamport: s.lamport, hash: s.hash };
      this.trustSeq = s.trust_seq;
      return undefined;
    }
    if (this.#seen(s, i)) {
      return { ok: false, code: 'DUPLICATE', index: i, message: 'receipt appears more than once' };
    }
    if (s.chain_id !== this.chainId) {
      return {
        ok: false,
        code: 'CHAIN_ID_MISMATCH',
        index: i,
        message: `receipt belongs to chain ${s.chain_id}`,
      };
    }
    if (s.prev_hash !== head.hash) {
      return {
        ok: false,
        code: 'CHAIN_BROKEN',
        index: i,
        message: 'prev_hash does not name the previous receipt',
      };
    }
    if (s.lamport <= head.lamport) {
      return {
        ok: false,
        code: 'LAMPORT_REGRESSION',
        index: i,
        message: `lamport ${s.lamport} after ${head.lamport}`,
      };
    }
    if (s.lamport !== head.lamport + 1) {
      return {
        ok: false,
        code: 'LAMPORT_GAP',
        index: i,
        message: `lamport ${s.lamport} after ${head.lamport}`,
      };
    }
    return {
      ok: false,
      code: 'TRUST_SEQ_REGRESSION',
      index: i,
      message: `trust_seq ${s.trust_seq} after ${this.trustSeq}: a chain never goes back to an earlier trust state`,
    };
  }

  /** After the last of `count` linked receipts: the expected-head check, or success. */
  finish(count: number, expected: ChainHead | undefined): ChainVerifyResult {
    const head = this.head;
    if (expected) {
      if (expected.chain_id !== this.chainId) {
        return {
          ok: false,
          code: 'CHAIN_ID_MISMATCH',
          index: 0,
          message: 'expected head is of another chain',
        };
      }
      if (head.lamport < expected.lamport) {
        return {
          ok: false,
          code: 'TRUNCATED',
          index: count,
          message: `chain ends at lamport ${head.lamport}, expected ${expected.lamport}`,
        };
      }
      if (head.lamport !== expected.lamport || head.hash !== expected.hash) {
        return {
          ok: false,
          code: 'HEAD_MISMATCH',
          index: Math.max(0, count - 1),
          message: 'the chain does not end at the expected head',
        };
      }
    }
    return { ok: true, head, count };
  }
}

/**
 * Phase 2: sequential link check over phase-1 summaries. `phase1Failure` (if any) is reported
 * when no link failure precedes it.
 */
export function linkReceipts(
  summaries: readonly ReceiptSummary[],
  options: LinkOptions = {},
  phase1Failure?: ReceiptFailure,
): ChainVerifyResult {
  const linker = new ChainLinker(options, summaries[0], (k) => summaries[k] as ReceiptSummary);
  const limit = phase1Failure ? Math.min(phase1Failure.index, summaries.length) : summaries.length;
  for (let i = 0; i < limit; i++) {
    const failure = linker.step(summaries[i] as ReceiptSummary, i);
    if (failure) return failure;
  }
  if (phase1Failure) return { ok: false, ...phase1Failure };
  return linker.finish(summaries.length, options.expectedHead);
}

export interface ChainVerifyOptions extends LinkOptions {
  readonly keys: ReceiptKeyLookup;
}

/**
 * Hash and receipt_id of a receipt that already passed phase 1 (failure path only: re-derived from
 * the envelope instead of being kept for every receipt).
 */
function priorOf(envelope: unknown): { readonly hash: string; readonly receipt_id: string } {
  const opened = openEnvelope<ReceiptBody>(envelope, RECEIPT_TYPE, {
    maxSignatures: 1,
    limits: RECEIPT_LIMITS,
  });
  return { hash: receiptHash(envelope as SignedEnvelope) as string, receipt_id: opened.body.receipt_id };
}

/**
 * Verify a whole chain (or a slice continuing from `from`) offline; report the first failure. One
 * streaming pass — each receipt is verified (phase 1) and then linked — with exactly the results of
 * `linkReceipts(verifyReceiptSignatures(…))`, but without holding a summary per receipt.
 *
 * @example
 * ```ts
 * import { type ChainHead, verifyReceiptChain } from '@helm/receipts/verify';
 *
 * declare const receipts: readonly unknown[];
 * declare const keys: (keyid: string, role: string, seq: number) => Uint8Array | undefined;
 * declare const expectedHead: ChainHead; // e.g. from a signed checkpoint; detects truncation
 * const result = verifyReceiptChain(receipts, { keys, expectedHead }); // never throws
 * if (!result.ok) console.log(`receipt ${result.index}: ${result.code}`);
 * ```
 */
export function verifyReceiptChain(
  receipts: readonly unknown[],
  options: ChainVerifyOptions,
): ChainVerifyResult {
  let linker: ChainLinker | undefined;
  for (let i = 0; i < receipts.length; i++) {
    const r = verifyReceipt(receipts[i], options.keys);
    if (!r.ok) {
      // A phase-1 failure at i: every receipt before it linked, so it is the first failure.
      return { ok: false, code: r.code, index: i, message: r.message };
    }
    linker ??= new ChainLinker(options, r.summary, (k) => priorOf(receipts[k]));
    const failure = linker.step(r.summary, i);
    if (failure) return failure;
  }
  return (linker ?? new ChainLinker(options, undefined, priorOf)).finish(
    receipts.length,
    options.expectedHead,
  );
}
