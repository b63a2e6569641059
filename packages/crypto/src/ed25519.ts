// Ed25519 behind one interface with two interchangeable backends (normative:
// docs/spec/signatures.md): `node` (node:crypto / OpenSSL, the fast default) and `noble`
// (@noble/curves, portable and an independent cross-check). Both enforce the same strict
// verification policy. Keys come from a caller-supplied 32-byte seed: the TCB never draws its own
// randomness. The noble backend and the backend registry are in ed25519-backends.ts, so that a
// verifier's import closure holds only the default (node) backend.
import { KEY_ID_PATTERN, KEY_ID_PREFIX } from '@helm/contracts/wire';
import { CryptoError } from './errors.js';
import { sha256Hex } from './hash.js';
import { nodePublicKeyFromSeed, nodeSignerFor, nodeVerify } from './internal/backend-node.js';
import {
  isValidPublicKey,
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
} from './internal/ed25519-policy.js';

export { isValidPublicKey, PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH };

export type Ed25519BackendName = 'node' | 'noble';

/** One Ed25519 implementation. Every backend enforces the same strict policy. */
export interface Ed25519Backend {
  readonly name: Ed25519BackendName;
  /** RFC 8032 public key of a 32-byte seed. */
  publicKeyFromSeed(seed: Uint8Array): Uint8Array;
  /** A signing function bound to one seed (backends may cache key material in it). */
  signerFor(seed: Uint8Array): (message: Uint8Array) => Uint8Array;
  /** Strict verification (signatures.md). Never throws: malformed input is `false`. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export const nodeBackend: Ed25519Backend = Object.freeze({
  name: 'node',
  publicKeyFromSeed: nodePublicKeyFromSeed,
  signerFor: nodeSignerFor,
  verify: nodeVerify,
});

/** Key id rule: `ed25519:` + lowercase hex SHA-256 of the 32-byte raw public key. */
export function keyIdFor(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoError('KEY_INVALID', 'Ed25519 public key must be 32 bytes');
  }
  return KEY_ID_PREFIX + sha256Hex(publicKey);
}

const KEY_ID = new RegExp(KEY_ID_PATTERN);

/** True for strings of the key id form `ed25519:<64 lowercase hex>` (contracts' KEY_ID_PATTERN). */
export function isKeyId(value: unknown): value is string {
  return typeof value === 'string' && KEY_ID.test(value);
}

/** Something that signs bytes with one Ed25519 key, synchronously (in-process keys). */
export interface Signer {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A signer whose key lives elsewhere (KMS, HSM, remote approver device). */
export interface AsyncSigner {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

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

/**
 * Strict Ed25519 verification (docs/spec/signatures.md) with the given backend (default node).
 * Returns false — never throws — for malformed keys or signatures.
 */
export function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  backend: Ed25519Backend = nodeBackend,
): boolean {
  return backend.verify(publicKey, message, signature);
}
