// Ed25519 key pairs and signers (normative: docs/spec/signatures.md §Keys). Keys come from a
// caller-supplied 32-byte seed: the TCB never draws its own randomness. Also the node backend
// object, which signs as well as verifies. Verification alone is ed25519.ts.

// node:crypto in Node; in a browser the same names are noble's (package.json "imports").
import { nodePublicKeyFromSeed, nodeSignerFor, nodeVerify } from '#platform-ed25519';
import { type AsyncSigner, type Ed25519Backend, keyIdFor, type Signer } from './ed25519.js';
import { CryptoError } from './errors.js';
import { SEED_LENGTH } from './internal/ed25519-policy.js';

/** The default backend: node:crypto (OpenSSL). */
export const nodeBackend: Ed25519Backend = Object.freeze({
  name: 'node',
  publicKeyFromSeed: nodePublicKeyFromSeed,
  signerFor: nodeSignerFor,
  verify: nodeVerify,
});

export interface Ed25519KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
}

/** Derive the key pair for a 32-byte seed (the seed comes from an injected entropy source). */
export function keyPairFromSeed(seed: Uint8Array, backend: Ed25519Backend = nodeBackend): Ed25519KeyPair {
  const publicKey = backend.publicKeyFromSeed(seed);
  return { seed: Uint8Array.from(seed), publicKey, keyId: keyIdFor(publicKey) };
}

/** Draws a fresh 32-byte seed; injected by the caller (e.g. crypto.getRandomValues in an app). */
export type EntropySource = (length: number) => Uint8Array;

/** Generate a key pair from injected entropy (the TCB itself has no randomness). */
export function generateKeyPair(
  entropy: EntropySource,
  backend: Ed25519Backend = nodeBackend,
): Ed25519KeyPair {
  const seed = entropy(SEED_LENGTH);
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new CryptoError('KEY_INVALID', 'the entropy source must return exactly 32 bytes');
  }
  let nonZero = 0;
  for (const b of seed) nonZero |= b;
  if (nonZero === 0) throw new CryptoError('KEY_INVALID', 'the entropy source returned all-zero bytes');
  return keyPairFromSeed(seed, backend);
}

/** An in-process signer for a seed (synchronous; the key material stays inside the closure). */
export function createSigner(seed: Uint8Array, backend: Ed25519Backend = nodeBackend): Signer {
  const sign = backend.signerFor(seed);
  const publicKey = backend.publicKeyFromSeed(seed);
  return Object.freeze({ keyId: keyIdFor(publicKey), publicKey, sign });
}

/** Wrap a synchronous signer as an AsyncSigner (to mix in-process and remote signers). */
export function toAsyncSigner(signer: Signer): AsyncSigner {
  return Object.freeze({
    keyId: signer.keyId,
    publicKey: signer.publicKey,
    sign: async (message: Uint8Array) => signer.sign(message),
  });
}
