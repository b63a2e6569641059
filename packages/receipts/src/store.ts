// The receipt store port. Persistent implementations (SQLite, …) live outside the TCB; this package
// ships the in-memory one. `append` must be atomic compare-and-append on the chain head.
import { RECEIPT_GENESIS_PREV_HASH, type SignedEnvelope } from '@helm/contracts';
import { ReceiptError } from './errors.js';
import type { ChainHead } from './receipt.js';

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

/** In-memory ReceiptStore (tests, embedding). */
export class InMemoryReceiptStore implements ReceiptStore {
  readonly #chains = new Map<string, StoredReceipt[]>();

  append(receipt: StoredReceipt): void {
    const list = this.#chains.get(receipt.chain_id) ?? [];
    const last = list[list.length - 1];
    const headHash = last ? last.hash : RECEIPT_GENESIS_PREV_HASH;
    const headLamport = last ? last.lamport : 0;
    if (receipt.prev_hash !== headHash || receipt.lamport !== headLamport + 1) {
      throw new ReceiptError('STORE_CONFLICT', 'receipt does not extend the stored head');
    }
    list.push(receipt);
    this.#chains.set(receipt.chain_id, list);
  }

  head(chainId: string): ChainHead | undefined {
    const list = this.#chains.get(chainId);
    const last = list?.[list.length - 1];
    return last ? { chain_id: chainId, lamport: last.lamport, hash: last.hash } : undefined;
  }

  range(chainId: string, fromLamport: number, toLamport: number): readonly SignedEnvelope[] {
    const list = this.#chains.get(chainId) ?? [];
    // lamport n sits at index n - 1.
    return list.slice(Math.max(0, fromLamport - 1), Math.max(0, toLamport)).map((r) => r.envelope);
  }
}
