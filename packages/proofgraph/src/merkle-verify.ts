// RFC 9162 (RFC 6962) inclusion and consistency proof verification (normative: docs/spec/merkle.md
// §Edge-case policy). Hashes are raw 32-byte SHA-256 values. Never throws.
import { bytesEqual } from '@helm/crypto/encoding';
import { half, hashChildren, isOdd, log2IfPowerOfTwo } from './internal/hashing.js';

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
