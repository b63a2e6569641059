// Threshold counting for TUF metadata. A threshold is a number of *distinct signers*, so a signer is
// identified by its public key material, not by the key id a role lists: one key listed under two
// ids (or encoded once as hex and once as PEM) counts once. This is the rule @helm/crypto's envelope
// verifier applies (it compares the public key bytes of the keys that signed); @helm/crypto exports
// no helper that understands TUF key encodings, so the rule is implemented here.
import { crypto as sigcrypto } from '@sigstore/core';
import type { Key, Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { TrustError } from '../errors.js';

type AnyMeta = Metadata<Root | Timestamp | Snapshot | Targets>;

const ED25519_SPKI_PREFIX = '302a300506032b6570032100';
const HEX = /^[0-9a-fA-F]+$/;
const identities = new WeakMap<Key, string>();

/** The key's public material as a JWK; undefined when it cannot be parsed (such a key verifies nothing). */
function publicJwk(key: Key): Record<string, unknown> | undefined {
  const value = key.keyVal.public;
  if (typeof value !== 'string') return undefined;
  try {
    if (value.startsWith('-----BEGIN PUBLIC KEY-----')) {
      return sigcrypto.createPublicKey(value).export({ format: 'jwk' }) as Record<string, unknown>;
    }
    if (key.keyType === 'ed25519' && value.length === 64 && HEX.test(value)) {
      const der = Buffer.from(`${ED25519_SPKI_PREFIX}${value}`, 'hex');
      return sigcrypto.createPublicKey(der, 'spki').export({ format: 'jwk' }) as Record<string, unknown>;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * A string equal for two keys exactly when they hold the same public key. Keys given as PEM or as
 * Ed25519 hex are compared by their JWK coordinates (so hex/PEM, case and EC point compression do
 * not matter); other encodings (raw ECDSA hex) by type and lowercase value.
 */
export function keyIdentity(key: Key): string {
  const known = identities.get(key);
  if (known !== undefined) return known;
  const jwk = publicJwk(key);
  const value = String(key.keyVal.public ?? '');
  const identity = jwk
    ? ['kty', 'crv', 'x', 'y', 'n', 'e'].map((f) => `${f}=${String(jwk[f] ?? '')}`).join(';')
    : `raw;${key.keyType};${value.toLowerCase()}`;
  identities.set(key, identity);
  return identity;
}

/**
 * Verify that at least `threshold` distinct public keys among `keyIDs` (resolved in `keys`) signed
 * `meta`. Ids missing from `keys`, invalid signatures and repeats of an already counted key do not
 * count. Throws TUF_THRESHOLD_NOT_MET.
 */
export function verifyThreshold(
  keys: Readonly<Record<string, Key>>,
  keyIDs: readonly string[],
  threshold: number,
  meta: AnyMeta,
  name: string,
): void {
  const signers = new Set<string>();
  for (const keyID of new Set(keyIDs)) {
    const key = Object.hasOwn(keys, keyID) ? keys[keyID] : undefined;
    if (!key) continue;
    const identity = keyIdentity(key);
    if (signers.has(identity)) continue;
    try {
      key.verifySignature(meta);
      signers.add(identity);
    } catch {
      // an invalid or missing signature simply does not count
    }
  }
  if (!Number.isSafeInteger(threshold) || threshold < 1 || signers.size < threshold) {
    throw new TrustError(
      'TUF_THRESHOLD_NOT_MET',
      `${name}: ${signers.size} distinct valid signer(s), threshold ${threshold}`,
    );
  }
}
