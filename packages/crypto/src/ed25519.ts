// Ed25519 through node:crypto (OpenSSL). Keys are derived from a caller-supplied 32-byte seed:
// the TCB never draws its own randomness.
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { CryptoError } from './errors.js';
import { sha256Hex } from './hash.js';

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Key id rule: `ed25519:` + lowercase hex SHA-256 of the 32-byte raw public key. */
export function keyIdFor(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new CryptoError('KEY_INVALID', 'Ed25519 public key must be 32 bytes');
  return `ed25519:${sha256Hex(publicKey)}`;
}

/** Something that signs bytes with one Ed25519 key (in-process, KMS, HSM …). */
export interface Signer {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface Ed25519KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new CryptoError('KEY_INVALID', 'Ed25519 seed must be 32 bytes');
  return createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' });
}

/** Derive the key pair for a 32-byte seed (the seed comes from an injected entropy source). */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  return { seed: Uint8Array.from(seed), publicKey, keyId: keyIdFor(publicKey) };
}

/** An in-process signer for a seed. */
export function createSigner(seed: Uint8Array): Signer {
  const key = privateKeyObject(seed);
  const { publicKey, keyId } = keyPairFromSeed(seed);
  return {
    keyId,
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
}

/** Ed25519 verification. Returns false (never throws) for malformed keys or signatures. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: Buffer.from(concat(SPKI_PREFIX, publicKey)),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
