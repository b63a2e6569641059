// RFC 9162 (RFC 6962) Merkle tree hashes, inclusion and consistency proofs (normative:
// docs/spec/merkle.md). Hashes are raw 32-byte SHA-256 values.
import { bytesEqual } from '@helm/crypto/encoding';
import { sha256 } from '@helm/crypto/hash';
import { ProofGraphError } from './errors.js';
import { half, hashChildren, hashLeaf, isOdd, splitPoint } from './internal/hashing.js';

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

function log2IfPowerOfTwo(n: number): number {
  let level = 0;
  while (2 ** level < n) level++;
  return 2 ** level === n ? level : -1;
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

function all32(hashes: readonly Uint8Array[]): boolean {
  for (const h of hashes) if (h.length !== 32) return false;
  return true;
}

/**
 * RFC 9162 §2.1.3.2: recompute the root from an inclusion proof. Returns undefined when the inputs
 * are structurally invalid (index ≥ size, a hash that is not 32 bytes, a proof of the wrong length).
 */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    return undefined;
  }
  if (leafHash.length !== 32 || !all32(proof)) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/**
 * The answer of verifyInclusion / verifyConsistency: PROOF_MALFORMED when the inputs cannot be a
 * proof (sizes, index, hash lengths, proof length), ROOT_MISMATCH when the proof is well formed but
 * does not lead to the given root(s).
 */
export type MerkleProofCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'PROOF_MALFORMED' | 'ROOT_MISMATCH'; readonly message: string };

const PROOF_OK: MerkleProofCheck = Object.freeze({ ok: true });
const PROOF_MALFORMED: MerkleProofCheck = Object.freeze({
  ok: false,
  code: 'PROOF_MALFORMED',
  message: 'not a proof for these tree sizes (size, index, hash length or proof length)',
});
const ROOT_MISMATCH: MerkleProofCheck = Object.freeze({
  ok: false,
  code: 'ROOT_MISMATCH',
  message: 'the proof does not lead to the given root',
});

/** RFC 9162 §2.1.3.2 inclusion proof verification. Never throws. */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): MerkleProofCheck {
  const computed = rootFromInclusionProof(index, treeSize, leafHash, proof);
  if (computed === undefined) return PROOF_MALFORMED;
  return bytesEqual(computed, root) ? PROOF_OK : ROOT_MISMATCH;
}

/**
 * RFC 9162 §2.1.4.2 consistency proof verification, with the edge-case policy of docs/spec/merkle.md:
 * size1 = 0 is rejected (even 0 → 0); size1 > size2 is rejected; equal sizes need an empty proof and
 * byte-identical roots; otherwise an empty proof is rejected and every hash must be 32 bytes.
 * Never throws.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): MerkleProofCheck {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size2 < size1)
    return PROOF_MALFORMED;
  if (size1 === size2) {
    if (proof.length !== 0) return PROOF_MALFORMED;
    return bytesEqual(root1, root2) ? PROOF_OK : ROOT_MISMATCH;
  }
  if (proof.length === 0 || root1.length !== 32 || root2.length !== 32 || !all32(proof))
    return PROOF_MALFORMED;
  const roots = rootsFromConsistencyProof(size1, size2, root1, proof);
  if (roots === undefined) return PROOF_MALFORMED;
  return bytesEqual(roots[0], root1) && bytesEqual(roots[1], root2) ? PROOF_OK : ROOT_MISMATCH;
}

/**
 * The roots of the trees of sizes `size1` and `size2` (0 < size1 < size2) recomputed from a
 * consistency proof (RFC 9162 §2.1.4.2 steps 1–7), or undefined when the proof has the wrong length.
 */
function rootsFromConsistencyProof(
  size1: number,
  size2: number,
  root1: Uint8Array,
  proof: readonly Uint8Array[],
): [Uint8Array, Uint8Array] | undefined {
  const path = log2IfPowerOfTwo(size1) >= 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? [fr, sr] : undefined;
}
