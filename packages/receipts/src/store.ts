// The receipt store port. Persistent implementations (SQLite, …) live outside the TCB; this package
// ships the in-memory one. `append` must be atomic compare-and-append on the chain head.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { RECEIPT_GENESIS_PREV_HASH } from '@helm/contracts/receipt';
import { ReceiptError } from './errors.js';
import type { ChainHead } from './head.js';

export interface StoredReceipt {
  readonly chain_id: string;
  readonly lamport: number;
  readonly receipt_id: string;
  /** Receipt hash (the next receipt's prev_hash). */
  readonly hash: string;
  readonly prev_hash: string;
  readonly envelope: SignedEnvelope;
}

export interface ReceiptStore {
  /**
   * Durably append `receipt` iff the chain's current head hash equals `receipt.prev_hash` (and its
   * lamport is head + 1). Throw (or reject) on conflict or any failure; only return once durable.
   */
  append(receipt: StoredReceipt): void | Promise<void>;
  /** The chain's head, or undefined when it has no receipts. */
  head(chainId: string): ChainHead | undefined | Promise<ChainHead | undefined>;
  /** Receipts of a chain with fromLamport ≤ lamport ≤ toLamport, in order. */
  range(
    chainId: string,
    fromLamport: number,
    toLamport: number,
  ): readonly SignedEnvelope[] | Promise<readonly SignedEnvelope[]>;
}

/**
 * In-memory ReceiptStore (tests, embedding). A chain is kept as two arrays, envelopes and receipt
 * hashes, indexed by lamport - 1: it holds no object per receipt beyond the envelope itself (each
 * object a governed call leaves in memory was measured to cost it latency).
 */
export class InMemoryReceiptStore implements ReceiptStore {
  readonly #chains = new Map<string, { envelopes: SignedEnvelope[]; hashes: string[] }>();

  append(receipt: StoredReceipt): void {
    let chain = this.#chains.get(receipt.chain_id);
    const length = chain ? chain.hashes.length : 0;
    const headHash = chain && length > 0 ? (chain.hashes[length - 1] as string) : RECEIPT_GENESIS_PREV_HASH;
    if (receipt.prev_hash !== headHash || receipt.lamport !== length + 1) {
      throw new ReceiptError('STORE_CONFLICT', 'receipt does not extend the stored head');
    }
    if (!chain) {
      chain = { envelopes: [], hashes: [] };
      this.#chains.set(receipt.chain_id, chain);
    }
    chain.envelopes.push(receipt.envelope);
    chain.hashes.push(receipt.hash);
  }

  head(chainId: string): ChainHead | undefined {
    const chain = this.#chains.get(chainId);
    const length = chain ? chain.hashes.length : 0;
    return chain && length > 0
      ? { chain_id: chainId, lamport: length, hash: chain.hashes[length - 1] as string }
      : undefined;
  }

  range(chainId: string, fromLamport: number, toLamport: number): readonly SignedEnvelope[] {
    const chain = this.#chains.get(chainId);
    // lamport n sits at index n - 1.
    return chain ? chain.envelopes.slice(Math.max(0, fromLamport - 1), Math.max(0, toLamport)) : [];
  }
}
