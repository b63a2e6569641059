// Ed25519 verification through node:crypto (OpenSSL): the default backend's verify side. OpenSSL
// checks the cofactorless equation by comparing encodings; the shared pre-checks and the cached key
// validation make its accept set exactly the strict policy of docs/spec/signatures.md. Signing with
// node:crypto is in backend-node-sign.ts, off every verify path.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { BoundedCache, cacheKey, decodeValidPublicKey, signaturePrecheck } from './ed25519-policy.js';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (the raw 32-byte key follows it). */
export const SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

/** `prefix ‖ body` as a DER buffer, zero-filled (not from the shared pool: it may hold a private seed). */
export function withPrefix(prefix: Uint8Array, body: Uint8Array): Buffer {
  const out = Buffer.alloc(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

/** Validated verification keys: KeyObject for a valid key, null for a key the policy rejects. */
const verifyKeys = new BoundedCache<KeyObject | null>(1024);

function verificationKey(publicKey: Uint8Array): KeyObject | null {
  const id = cacheKey(publicKey);
  let key = verifyKeys.get(id);
  if (key === undefined) {
    key =
      decodeValidPublicKey(publicKey) === undefined
        ? null
        : createPublicKey({ key: withPrefix(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' });
    verifyKeys.set(id, key);
  }
  return key;
}

/**
 * Whether `publicKey` passes the key rules A1–A3, answered from the same validated-key cache the
 * node backend verifies with (so explaining a failure costs no second curve decoding).
 */
export function isCachedValidKey(publicKey: Uint8Array): boolean {
  return publicKey instanceof Uint8Array && publicKey.length === 32 && verificationKey(publicKey) !== null;
}

export function nodeVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!signaturePrecheck(publicKey, signature) || !(message instanceof Uint8Array)) return false;
  const key = verificationKey(publicKey);
  if (key === null) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
