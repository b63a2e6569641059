// Ed25519 signing through node:crypto (OpenSSL): the default backend's signing side.
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { SPKI_PREFIX, withPrefix } from './backend-node.js';
import { SEED_LENGTH } from './ed25519-policy.js';

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

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
