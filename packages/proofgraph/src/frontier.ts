// Compact range / frontier of an append-only RFC 9162 tree: the roots of the perfect subtrees that
// make up the first `size` leaves, largest first — at most ⌈log2(size)⌉+1 hashes, O(log n) memory.
// Appending a leaf costs amortized one interior hash; the root folds the frontier right to left.
import { ProofGraphError } from './errors.js';
import { hashChildren } from './internal/hashing.js';
import { EMPTY_TREE_ROOT } from './merkle.js';

export class MerkleFrontier {
  #size = 0;
  /** Perfect subtree roots, largest (leftmost) first. */
  readonly #nodes: Uint8Array[] = [];

  /** Resume from a saved frontier (size + its subtree roots, as produced by `nodes`). */
  static from(size: number, nodes: readonly Uint8Array[]): MerkleFrontier {
    let bits = 0;
    for (let s = size; s > 0; s = Math.floor(s / 2)) bits += s % 2;
    if (
      !Number.isSafeInteger(size) ||
      size < 0 ||
      bits !== nodes.length ||
      nodes.some((n) => n.length !== 32)
    ) {
      throw new ProofGraphError('MERKLE_RANGE', 'frontier does not match its size');
    }
    const f = new MerkleFrontier();
    f.#size = size;
    for (const n of nodes) f.#nodes.push(Uint8Array.from(n));
    return f;
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree roots (largest first); with `size`, enough to resume. */
  get nodes(): readonly Uint8Array[] {
    return this.#nodes;
  }

  /** Append one leaf hash (32 bytes). */
  append(leafHash: Uint8Array): void {
    if (leafHash.length !== 32) throw new ProofGraphError('MERKLE_RANGE', 'leaf hash must be 32 bytes');
    let h = leafHash;
    // Each trailing 1 bit of the old size is a perfect subtree of the same height to merge with.
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) {
      h = hashChildren(this.#nodes.pop() as Uint8Array, h);
    }
    this.#nodes.push(h);
    this.#size++;
  }

  /** The RFC 9162 tree hash of all appended leaves. */
  root(): Uint8Array {
    const nodes = this.#nodes;
    if (nodes.length === 0) return EMPTY_TREE_ROOT;
    let h = nodes[nodes.length - 1] as Uint8Array;
    for (let i = nodes.length - 2; i >= 0; i--) h = hashChildren(nodes[i] as Uint8Array, h);
    return h;
  }
}
