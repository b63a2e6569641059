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

function toBytesLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/**
 * RFC 8032 §5.1.6 signing with the expanded key (scalar a, prefix, A) computed once per signer:
 * r = H(prefix ‖ M) mod L, R = [r]B, k = H(R ‖ A ‖ M) mod L, S = (r + k·a) mod L.
 */
export function nobleSignerFor(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  checkSeed(seed);
  const { prefix, scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const A = Uint8Array.from(pointBytes);
  const nonceInput = (message: Uint8Array) => {
    const buf = new Uint8Array(32 + message.length);
    buf.set(prefix, 0);
    buf.set(message, 32);
    return buf;
  };
  return (message) => {
    const r = numberLE(sha512(nonceInput(message))) % ORDER;
    const R = Point.BASE.multiply(r).toBytes(); // constant-time; throws only for r = 0 (probability 2^-252)
    const h = new Uint8Array(64 + message.length);
    h.set(R, 0);
    h.set(A, 32);
    h.set(message, 64);
    const k = numberLE(sha512(h)) % ORDER;
    const S = (r + k * scalar) % ORDER;
    const sig = new Uint8Array(64);
    sig.set(R, 0);
    sig.set(toBytesLE(S), 32);
    return sig;
  };
}

/** A validated key and how often it has been used (hot keys get wNAF precomputation). */
interface CachedKey {
  readonly point: NoblePoint;
  uses: number;
}

/** Decoded, validated keys; null for keys the policy rejects. */
const verifyKeys = new BoundedCache<CachedKey | null>(1024);
/** After this many verifications a key gets precomputed tables: speed only, the decoded point is the same. */
const PRECOMPUTE_AFTER = 8;

export function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!signaturePrecheck(publicKey, signature) || !(message instanceof Uint8Array)) return false;
  const id = cacheKey(publicKey);
  let entry = verifyKeys.get(id);
  if (entry === undefined) {
    const point = decodeValidPublicKey(publicKey);
    entry = point === undefined ? null : { point, uses: 0 };
    verifyKeys.set(id, entry);
  }
  if (entry === null) return false;
  if (++entry.uses === PRECOMPUTE_AFTER) entry.point.precompute(4, false);
  const A = entry.point;
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
