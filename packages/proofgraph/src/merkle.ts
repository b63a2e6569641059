// RFC 9162 (RFC 6962) Merkle tree hashes, inclusion and consistency proofs (normative:
// docs/spec/merkle.md): hashes, roots and proof construction. Hashes are raw 32-byte SHA-256 values.
// Proof verification is merkle-verify.ts.
import { sha256 } from '@helm/crypto/hash';
import { ProofGraphError } from './errors.js';
import { hashChildren, hashLeaf, log2IfPowerOfTwo, splitPoint } from './internal/hashing.js';

/** RFC 9162 leaf hash: SHA-256(0x00 || leaf data). */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  return hashLeaf(data);
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32)
    throw new ProofGraphError('MERKLE_RANGE', 'children must be 32 bytes');
  return hashChildren(left, right);
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** Where proofs read leaf hashes from (a LeafHashStore, or a plain array via `leafHashSource`). */
export interface LeafHashSource {
  /** Number of leaves available. */
  readonly size: number;
  /** Leaf hash at `index` (0 ≤ index < size). */
  leafHash(index: number): Uint8Array;
  /**
   * Optional: hash of the perfect subtree of 2^level leaves starting at index·2^level. Stores can
   * cache these (they never change in an append-only log) to make proofs O(log n).
   */
  perfectSubtreeHash?(level: number, index: number): Uint8Array;
}

export function leafHashSource(hashes: readonly Uint8Array[]): LeafHashSource {
  return {
    size: hashes.length,
    leafHash: (i) => hashes[i] as Uint8Array,
  };
}

/** MTH(D[start:end]) for 0 ≤ start < end ≤ size. */
export function subtreeHash(source: LeafHashSource, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return source.leafHash(start);
  if (source.perfectSubtreeHash) {
    const level = log2IfPowerOfTwo(n);
    if (level > 0 && start % n === 0) return source.perfectSubtreeHash(level, start / n);
  }
  const k = splitPoint(n);
  return hashChildren(subtreeHash(source, start, start + k), subtreeHash(source, start + k, end));
}

function checkSize(source: LeafHashSource, treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > source.size) {
    throw new ProofGraphError('MERKLE_RANGE', `tree size ${treeSize} outside 0..${source.size}`);
  }
}

/** MTH of the first `treeSize` leaves (default: all). */
export function merkleRoot(source: LeafHashSource, treeSize: number = source.size): Uint8Array {
  checkSize(source, treeSize);
  return treeSize === 0 ? EMPTY_TREE_ROOT : subtreeHash(source, 0, treeSize);
}

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `treeSize` leaves. */
export function inclusionProof(source: LeafHashSource, index: number, treeSize: number): Uint8Array[] {
  checkSize(source, treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new ProofGraphError('MERKLE_RANGE', `leaf ${index} outside tree of size ${treeSize}`);
  }
  const proof: Uint8Array[] = [];
  // PATH(m, D[start:end]), iteratively from the top; siblings collected top-down, then reversed.
  let start = 0;
  let end = treeSize;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      proof.push(subtreeHash(source, start + k, end));
      end = start + k;
    } else {
      proof.push(subtreeHash(source, start, start + k));
      start += k;
      m -= k;
    }
  }
  return proof.reverse();
}

/** RFC 9162 §2.1.4.1 consistency proof from the tree of size `size1` to the tree of size `size2`. */
export function consistencyProof(source: LeafHashSource, size1: number, size2: number): Uint8Array[] {
  checkSize(source, size2);
  if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2) {
    throw new ProofGraphError('MERKLE_RANGE', `consistency needs 0 < size1 ≤ size2, got ${size1}, ${size2}`);
  }
  const proof: Uint8Array[] = [];
  // SUBPROOF(m, D[start:end], b), iteratively.
  let start = 0;
  let end = size2;
  let m = size1;
  let b = true;
  while (true) {
    const n = end - start;
    if (m === n) {
      if (!b) proof.push(subtreeHash(source, start, end));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      proof.push(subtreeHash(source, start + k, end));
      end = start + k;
    } else {
      proof.push(subtreeHash(source, start, start + k));
      start += k;
      m -= k;
      b = false;
    }
  }
  return proof.reverse();
}
