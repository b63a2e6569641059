// The key-ring interface: the seam between signature checking and trust decisions. A KeyRing
// answers "which raw public key does this key id denote?"; the trust package
// implements richer rings (roles, validity windows, revocation) behind the same interface.
import { isValidPublicKey, keyIdFor } from './ed25519.js';
import { CryptoError } from './errors.js';

/** Validate and copy a raw public key (rules A1–A3 of docs/spec/signatures.md). */
export function importPublicKeyRaw(raw: Uint8Array): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new CryptoError('KEY_ENCODING_INVALID', 'raw Ed25519 public key must be 32 bytes');
  }
  if (!isValidPublicKey(raw)) {
    throw new CryptoError('KEY_INVALID', 'public key is non-canonical, not on the curve or of small order');
  }
  return Uint8Array.from(raw);
}

/** Resolves key ids to raw Ed25519 public keys. */
export interface KeyRing {
  /** The raw public key for `keyId`, or undefined when the ring does not hold it. */
  lookup(keyId: string): Uint8Array | undefined;
  /** Key ids held, in insertion order. */
  keyIds(): readonly string[];
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
