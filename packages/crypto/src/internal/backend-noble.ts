// Ed25519 through @noble/curves + @noble/hashes: the portable backend (no node built-ins) and
// the independent cross-check of the node backend. noble's own verify() uses the cofactored
// equation; HELM's policy is cofactorless (docs/spec/signatures.md, rule V1), so verification here
// computes R' = [S]B − [k]A with noble's point arithmetic and compares encodings, exactly as
// OpenSSL does. Signing and key derivation are noble's RFC 8032 implementation.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors.js';
import {
  BoundedCache,
  cacheKey,
  decodeValidPublicKey,
  SEED_LENGTH,
  signaturePrecheck,
} from './ed25519-policy.js';

type NoblePoint = ReturnType<typeof ed25519.Point.fromBytes>;

const { Point } = ed25519;
const ORDER = Point.Fn.ORDER;

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new CryptoError('KEY_INVALID', 'Ed25519 seed must be 32 bytes');
  }
}

function numberLE(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += (bytes[i] as number).toString(16).padStart(2, '0');
  return BigInt(`0x${hex}`);
}

export function noblePublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return ed25519.getPublicKey(seed);
}

export function nobleSignerFor(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  checkSeed(seed);
  const copy = Uint8Array.from(seed);
  return (message) => ed25519.sign(message, copy);
}

/** Decoded, validated keys; null for keys the policy rejects. */
const verifyKeys = new BoundedCache<NoblePoint | null>(1024);

export function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!signaturePrecheck(publicKey, signature) || !(message instanceof Uint8Array)) return false;
  const id = cacheKey(publicKey);
  let A = verifyKeys.get(id);
  if (A === undefined) {
    A = decodeValidPublicKey(publicKey) ?? null;
    verifyKeys.set(id, A);
  }
  if (A === null) return false;
  const R = signature.subarray(0, 32);
  const s = numberLE(signature.subarray(32, 64)); // < L by the pre-check
  const h = new Uint8Array(64 + message.length);
  h.set(R, 0);
  h.set(publicKey, 32);
  h.set(message, 64);
  const k = numberLE(sha512(h)) % ORDER;
  const rCheck = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= (rCheck[i] as number) ^ (R[i] as number);
  return diff === 0;
}
