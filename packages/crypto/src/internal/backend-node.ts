// Ed25519 through node:crypto (OpenSSL): the fast default backend. OpenSSL checks the
// cofactorless equation by comparing encodings; the shared pre-checks and the cached key
// validation make its accept set exactly the strict policy of docs/spec/signatures.md.
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { CryptoError } from '../errors.js';
import {
  BoundedCache,
  cacheKey,
  decodeValidPublicKey,
  SEED_LENGTH,
  signaturePrecheck,
} from './ed25519-policy.js';

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

function withPrefix(prefix: Uint8Array, body: Uint8Array): Buffer {
  // not from the shared pool: this buffer holds a private seed
  const out = Buffer.alloc(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

export function nodePrivateKey(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new CryptoError('KEY_INVALID', 'Ed25519 seed must be 32 bytes');
  }
  return createPrivateKey({ key: withPrefix(PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' });
}

export function nodePublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(nodePrivateKey(seed)).export({ format: 'der', type: 'spki' });
  return Uint8Array.from(spki.subarray(SPKI_PREFIX.length));
}

export function nodeSignerFor(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  const key = nodePrivateKey(seed);
  return (message) => {
    const sig = sign(null, message, key);
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
  };
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
