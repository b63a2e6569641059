// The strict Ed25519 verification policy shared by every backend (normative:
// docs/spec/signatures.md). Cheap byte-level pre-checks run on every verification; the expensive
// public-key validation (curve decoding, small order, prime-order subgroup) runs once per key and
// is cached by the backends.
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex } from '../encoding.js';

export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_BYTES = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/**
 * Canonical encodings of the 8 points of small order (the torsion subgroup E[8]: the identity, the
 * point of order 2, two of order 4, four of order 8), as the pinned @noble/curves lists them.
 */
export const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = ED25519_TORSION_SUBGROUP.map((hex) => {
  const bytes = fromHex(hex);
  if (bytes?.length !== 32) throw new Error(`@noble/curves torsion point ${hex} is not 32 bytes of hex`);
  return bytes;
});

/** S (bytes 32..63 of a signature, little-endian) < L. Rule S1 of signatures.md. */
export function isCanonicalScalar(sig: Uint8Array, offset = 32): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = sig[offset + i] as number;
    const b = L_BYTES[i] as number;
    if (a < b) return true;
    if (a > b) return false;
  }
  return false; // S == L
}

/**
 * A 32-byte point encoding is canonical: the 255-bit y is < p = 2^255 − 19, and the sign bit is
 * clear when x = 0 (y = ±1). Rule P1 of signatures.md. Does not check that y is on the curve.
 */
export function isCanonicalPointEncoding(bytes: Uint8Array, offset = 0): boolean {
  const top = (bytes[offset + 31] as number) & 0x7f;
  if (top === 0x7f) {
    let allFF = true;
    for (let i = 1; i < 31; i++) {
      if (bytes[offset + i] !== 0xff) {
        allFF = false;
        break;
      }
    }
    if (allFF && (bytes[offset] as number) >= 0xed) return false; // y >= p
  }
  if (((bytes[offset + 31] as number) & 0x80) !== 0) {
    // sign bit set: x = 0 exactly when y = 1 or y = p − 1
    const b0 = bytes[offset] as number;
    let rest = true;
    if (b0 === 0x01) {
      for (let i = 1; i < 31; i++) if (bytes[offset + i] !== 0) rest = false;
      if (rest && top === 0) return false;
    } else if (b0 === 0xec) {
      for (let i = 1; i < 31; i++) if (bytes[offset + i] !== 0xff) rest = false;
      if (rest && top === 0x7f) return false;
    }
  }
  return true;
}

/** The encoding is one of the 8 canonical small-order encodings. Rule P2 of signatures.md. */
export function isSmallOrderEncoding(bytes: Uint8Array, offset = 0): boolean {
  outer: for (const enc of SMALL_ORDER_ENCODINGS) {
    for (let i = 0; i < 32; i++) if (enc[i] !== bytes[offset + i]) continue outer;
    return true;
  }
  return false;
}

/**
 * Per-signature pre-checks common to all backends: lengths (64-byte signature, 32-byte key),
 * S < L, and R canonical and not of small order. The key itself is validated by
 * isValidPublicKey (cached by each backend).
 */
export function signaturePrecheck(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return (
    publicKey instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    publicKey.length === PUBLIC_KEY_LENGTH &&
    signature.length === SIGNATURE_LENGTH &&
    isCanonicalScalar(signature, 32) &&
    isCanonicalPointEncoding(signature, 0) &&
    !isSmallOrderEncoding(signature, 0)
  );
}

type NoblePoint = ReturnType<typeof ed25519.Point.fromBytes>;

/**
 * Full public-key validation (rules A1–A3): canonical encoding, decodes to a curve point, not of
 * small order, and in the prime-order subgroup. Returns the decoded point, or undefined.
 */
export function decodeValidPublicKey(publicKey: Uint8Array): NoblePoint | undefined {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return undefined;
  if (!isCanonicalPointEncoding(publicKey) || isSmallOrderEncoding(publicKey)) return undefined;
  let point: NoblePoint;
  try {
    point = ed25519.Point.fromBytes(publicKey, false);
  } catch {
    return undefined;
  }
  if (point.isSmallOrder() || !point.isTorsionFree()) return undefined;
  return point;
}

/** True when `publicKey` passes the strict key checks A1–A3 of signatures.md. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return decodeValidPublicKey(publicKey) !== undefined;
}

/** The verified-key cache key of a 32-byte public key: its hex encoding. */
export function cacheKey(publicKey: Uint8Array): string {
  return toHex(publicKey);
}

/** A small bounded cache (cleared wholesale when full; keys are cheap to revalidate). */
export class BoundedCache<V> {
  readonly #map = new Map<string, V>();
  readonly #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
  set(key: string, value: V): void {
    if (this.#map.size >= this.#limit) this.#map.clear();
    this.#map.set(key, value);
  }
}
