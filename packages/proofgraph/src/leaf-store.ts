// The leaf-hash store port: where proof generation reads leaf hashes (never the frontier). A
// persistent implementation lives outside the TCB; the in-memory one keeps hashes in flat buffers
// (32 bytes per leaf, no per-leaf objects) and memoizes perfect-subtree hashes on first use, so a
// proof costs O(n) once and O(log n) afterwards.
import { ProofGraphError } from './errors.js';
import { hashChildren } from './internal/hashing.js';
import type { LeafHashSource } from './merkle.js';

export interface LeafHashStore extends LeafHashSource {
  /** Append one 32-byte leaf hash; returns its index. */
  append(leafHash: Uint8Array): number;
}

/** A growable array of 32-byte hashes in one buffer. */
class HashArray {
  buf = new Uint8Array(32 * 1024);
  length = 0;
  push(h: Uint8Array): void {
    if ((this.length + 1) * 32 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf.set(h, this.length * 32);
    this.length++;
  }
  at(i: number): Uint8Array {
    return this.buf.subarray(i * 32, i * 32 + 32);
  }
}

export class InMemoryLeafHashStore implements LeafHashStore {
  readonly #leaves = new HashArray();
  /** #levels[l] caches perfect subtrees of 2^l leaves (l ≥ 1), densely from index 0. */
  readonly #levels: HashArray[] = [];

  get size(): number {
    return this.#leaves.length;
  }

  append(leafHash: Uint8Array): number {
    if (leafHash.length !== 32) throw new ProofGraphError('MERKLE_RANGE', 'leaf hash must be 32 bytes');
    this.#leaves.push(leafHash);
    return this.#leaves.length - 1;
  }

  leafHash(index: number): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#leaves.length) {
      throw new ProofGraphError('MERKLE_RANGE', `no leaf ${index}`);
    }
    return Uint8Array.from(this.#leaves.at(index));
  }

  perfectSubtreeHash(level: number, index: number): Uint8Array {
    if (!Number.isSafeInteger(level) || !Number.isSafeInteger(index) || level < 0 || index < 0) {
      throw new ProofGraphError('MERKLE_RANGE', `no subtree ${level}/${index}`);
    }
    if ((index + 1) * 2 ** level > this.#leaves.length) {
      throw new ProofGraphError('MERKLE_RANGE', `subtree ${level}/${index} is not complete`);
    }
    return Uint8Array.from(this.#perfect(level, index));
  }

  /** Internal view (no copy) of a complete perfect subtree hash. */
  #perfect(level: number, index: number): Uint8Array {
    if (level === 0) return this.#leaves.at(index);
    let cache = this.#levels[level];
    if (!cache) {
      cache = new HashArray();
      this.#levels[level] = cache;
    }
    // Fill densely up to `index` (each entry from two entries one level down).
    while (cache.length <= index) {
      const j = cache.length;
      cache.push(hashChildren(this.#perfect(level - 1, 2 * j), this.#perfect(level - 1, 2 * j + 1)));
    }
    return cache.at(index);
  }
}
