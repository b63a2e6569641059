// Verifier and key-ring interfaces: the seam between signature checking and trust decisions.
// A KeyRing answers "which raw public key does this key id denote?"; the trust package
// implements richer rings (roles, validity windows, revocation) behind the same interface.
import { type Ed25519Backend, keyIdFor } from './ed25519.js';
import { nodeBackend } from './ed25519-sign.js';
import { CryptoError } from './errors.js';
import { importPublicKeyRaw } from './keys.js';

/** Resolves key ids to raw Ed25519 public keys. */
export interface KeyRing {
  /** The raw public key for `keyId`, or undefined when the ring does not hold it. */
  lookup(keyId: string): Uint8Array | undefined;
  /** Key ids held, in insertion order. */
  keyIds(): readonly string[];
}

/** Verifies signatures by key id. */
export interface Verifier {
  /** True only when `keyId` is known and `signature` verifies strictly over `message`. */
  verify(keyId: string, message: Uint8Array, signature: Uint8Array): boolean;
}

/** An immutable in-memory key ring. Keys are validated (A1–A3) and indexed by keyIdFor. */
export function createKeyRing(publicKeys: Iterable<Uint8Array>): KeyRing {
  const map = new Map<string, Uint8Array>();
  for (const key of publicKeys) {
    const raw = importPublicKeyRaw(key);
    const id = keyIdFor(raw);
    if (map.has(id)) throw new CryptoError('KEY_INVALID', `duplicate key ${id} in key ring`);
    map.set(id, raw);
  }
  const ids = Object.freeze([...map.keys()]);
  return Object.freeze({
    lookup: (keyId: string) => {
      const key = map.get(keyId);
      return key === undefined ? undefined : Uint8Array.from(key);
    },
    keyIds: () => ids,
  });
}

/** A Verifier over a key ring with the given backend (default node). */
export function createVerifier(ring: KeyRing, backend: Ed25519Backend = nodeBackend): Verifier {
  return Object.freeze({
    verify: (keyId: string, message: Uint8Array, signature: Uint8Array) => {
      const key = ring.lookup(keyId);
      return key !== undefined && keyIdFor(key) === keyId && backend.verify(key, message, signature);
    },
  });
}
