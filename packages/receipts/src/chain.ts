// A receipt chain: one signer, one head. `prepare` builds the next receipt without moving the head;
// `commit` moves it once the receipt is durably stored, so a failed store append never leaves a gap.
// Along a chain the trust registry state a receipt is signed under (`trust_seq`) never decreases:
// `prepare` refuses a receipt whose trust_seq is below the head's (it could never verify).
import type { Signer } from '@helm/crypto/ed25519';
import { ReceiptError } from './errors.js';
import { type ChainHead, genesisHead } from './head.js';
import { type MintedReceipt, mintReceipt, type ReceiptInput } from './receipt.js';

export interface ReceiptChainOptions {
  readonly signer: Signer;
  readonly chainId: string;
  /** Where to continue from (e.g. a store's head); a fresh chain when omitted. */
  readonly head?: ChainHead;
  /** `trust_seq` of the head receipt (the least trust_seq the next receipt may carry); default 1. */
  readonly headTrustSeq?: number;
}

/**
 * A receipt chain: one signer and one head. `prepare` signs the next receipt without moving the
 * head, `commit` moves it once the receipt is stored, so a failed append never leaves a gap.
 *
 * @example
 * ```ts
 * import type { SignedEnvelope } from '@helm/contracts/envelope';
 * import { createSigner } from '@helm/crypto/ed25519-sign';
 * import { ReceiptChain, type ReceiptInput } from '@helm/receipts';
 *
 * declare const seed: Uint8Array;
 * declare const next: ReceiptInput;
 * declare const append: (envelope: SignedEnvelope) => Promise<void>; // your durable store
 * async function record(chain: ReceiptChain, input: ReceiptInput): Promise<void> {
 *   const receipt = chain.prepare(input); // signed; the head has not moved
 *   await append(receipt.envelope);
 *   chain.commit(receipt); // stored, so the head moves to it
 * }
 * void record(new ReceiptChain({ signer: createSigner(seed), chainId: 'example' }), next);
 * ```
 */
export class ReceiptChain {
  readonly signer: Signer;
  #head: ChainHead;
  #trustSeq: number;

  constructor(options: ReceiptChainOptions) {
    const head = options.head ?? genesisHead(options.chainId);
    if (head.chain_id !== options.chainId) {
      throw new ReceiptError('RECEIPT_INPUT_INVALID', 'head belongs to a different chain');
    }
    if (!Number.isSafeInteger(head.lamport) || head.lamport < 0) {
      throw new ReceiptError('RECEIPT_INPUT_INVALID', 'head lamport must be a non-negative integer');
    }
    const trustSeq = options.headTrustSeq ?? 1;
    if (!Number.isSafeInteger(trustSeq) || trustSeq < 1) {
      throw new ReceiptError('RECEIPT_INPUT_INVALID', 'headTrustSeq must be a positive integer');
    }
    this.signer = options.signer;
    this.#head = head;
    this.#trustSeq = trustSeq;
  }

  /** The trust_seq of the head receipt (1 for a fresh chain): the next receipt's lower bound. */
  get headTrustSeq(): number {
    return this.#trustSeq;
  }

  get head(): ChainHead {
    return this.#head;
  }

  /** Build and sign the receipt that follows the current head; the head does not move. */
  prepare(input: ReceiptInput): MintedReceipt {
    if (typeof input?.trust_seq === 'number' && input.trust_seq < this.#trustSeq) {
      throw new ReceiptError(
        'RECEIPT_INPUT_INVALID',
        `trust_seq ${input.trust_seq} is below the chain head's ${this.#trustSeq}: trust state never goes back`,
      );
    }
    return mintReceipt(input, this.#head, this.signer);
  }

  /** Advance the head to a prepared receipt (it must directly follow the current head). */
  commit(receipt: MintedReceipt): void {
    const head = this.#head;
    if (
      receipt.body.chain_id !== head.chain_id ||
      receipt.body.prev_hash !== head.hash ||
      receipt.body.lamport !== head.lamport + 1
    ) {
      throw new ReceiptError('CHAIN_HEAD_MOVED', 'receipt does not follow the current head');
    }
    this.#head = { chain_id: head.chain_id, lamport: receipt.body.lamport, hash: receipt.hash };
    this.#trustSeq = receipt.body.trust_seq;
  }

  /** prepare + commit, for callers without a store (tests, in-memory pipelines). */
  mint(input: ReceiptInput): MintedReceipt {
    const receipt = this.prepare(input);
    this.commit(receipt);
    return receipt;
  }
}
