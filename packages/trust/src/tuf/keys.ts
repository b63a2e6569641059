// Threshold counting for TUF metadata. A threshold is a number of *distinct signers*, so a signer is
// identified by its public key material, not by the key id a role lists nor by the keytype / scheme
// labels next to it: one key listed under two ids, in two encodings (hex / PEM, compressed /
// uncompressed EC point, rsaEncryption / RSASSA-PSS SPKI) or under two labels counts once. This is
// the rule @helm/crypto's envelope verifier applies (it compares the public key bytes of the keys
// that signed); @helm/crypto exports no helper that understands TUF key encodings, so the rule is
// implemented here.
//
// Identity = the key's canonical SubjectPublicKeyInfo DER (hex): Ed25519 as its 32 raw bytes, EC
// (P-256, P-384) as the uncompressed point, RSA as rsaEncryption with the DER RSAPublicKey. A key
// whose value does not parse to one of those has no identity and never counts toward a threshold
// (it could only be compared as a raw string, which is how one key became two).
import { ASN1Obj, crypto as sigcrypto } from '@sigstore/core';
import type { Key, Metadata, Root, Snapshot, Targets, Timestamp } from '@tufjs/models';
import { TrustError } from '../errors.js';

type AnyMeta = Metadata<Root | Timestamp | Snapshot | Targets>;
type PublicKey = ReturnType<typeof sigcrypto.createPublicKey>;

const PEM_HEADER = '-----BEGIN PUBLIC KEY-----';
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** DER AlgorithmIdentifier of each supported family (hex). */
const ALGORITHM = {
  ed25519: '300506032b6570',
  'P-256': '301306072a8648ce3d020106082a8648ce3d030107',
  'P-384': '301006072a8648ce3d020106052b81040022',
} as const;
/** Field size in bytes of the supported curves: the JWK coordinates have exactly this length. */
const FIELD_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48 };
/** Curve of an ECDSA key given as hex: the TUF scheme names it (as @tufjs/models decodes it). */
const SCHEME_CURVE: Readonly<Record<string, 'P-256' | 'P-384'>> = {
  'ecdsa-sha2-nistp256': 'P-256',
  'ecdsa-sha2-nistp384': 'P-384',
};
const ECDSA_KEYTYPES = new Set(['ecdsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384']);

const identities = new WeakMap<Key, string | undefined>();

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** SEQUENCE { algorithm, BIT STRING (no unused bits) { key } } */
function spki(algorithm: string, key: Buffer): Buffer {
  const bits = Buffer.concat([Buffer.from([0x03]), derLength(key.length + 1), Buffer.from([0]), key]);
  const body = Buffer.concat([Buffer.from(algorithm, 'hex'), bits]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/**
 * The public key an entry holds. Labels are consulted only where the encoding needs them: a hex
 * value is Ed25519 under keytype `ed25519` and an EC point on the scheme's curve under an ECDSA
 * keytype (the two hex encodings @tufjs/models verifies with); PEM values carry their own type.
 */
function parsePublicKey(key: Key): PublicKey | undefined {
  const value = key.keyVal.public;
  if (typeof value !== 'string') return undefined;
  if (value.startsWith(PEM_HEADER)) return sigcrypto.createPublicKey(value);
  if (!HEX.test(value)) return undefined;
  const bytes = Buffer.from(value, 'hex');
  if (key.keyType === 'ed25519') return sigcrypto.createPublicKey(spki(ALGORITHM.ed25519, bytes), 'spki');
  const curve = SCHEME_CURVE[key.scheme];
  if (ECDSA_KEYTYPES.has(key.keyType) && curve !== undefined)
    return sigcrypto.createPublicKey(spki(ALGORITHM[curve], bytes), 'spki');
  return undefined;
}

function base64url(value: unknown, length: number): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === length ? bytes : undefined;
}

/** The canonical SPKI DER of a supported public key; undefined for every other key. */
function canonicalSpki(key: PublicKey): Buffer | undefined {
  switch (key.asymmetricKeyType) {
    case 'ed25519': {
      const x = base64url((key.export({ format: 'jwk' }) as { x?: unknown }).x, 32);
      return x && spki(ALGORITHM.ed25519, x);
    }
    case 'ec': {
      // Node re-exports an EC key in the point form it was given (compressed, hybrid, uncompressed):
      // the JWK coordinates are the canonical material.
      const jwk = key.export({ format: 'jwk' }) as { crv?: unknown; x?: unknown; y?: unknown };
      const size =
        typeof jwk.crv === 'string' && Object.hasOwn(FIELD_BYTES, jwk.crv) ? FIELD_BYTES[jwk.crv] : 0;
      if (!size) return undefined;
      const [x, y] = [base64url(jwk.x, size as number), base64url(jwk.y, size as number)];
      if (!x || !y) return undefined;
      return spki(ALGORITHM[jwk.crv as 'P-256' | 'P-384'], Buffer.concat([Buffer.from([4]), x, y]));
    }
    case 'rsa':
      // DER of (n, e) re-encoded by the parser: one form per key
      return key.export({ format: 'der', type: 'spki' });
    case 'rsa-pss': {
      // The same (n, e) under the RSASSA-PSS algorithm identifier verifies the same signatures:
      // take its RSAPublicKey out of the BIT STRING and re-encode it as rsaEncryption.
      const der = key.export({ format: 'der', type: 'spki' });
      const bits = ASN1Obj.parseBuffer(der).subs[1]?.value;
      if (bits?.[0] !== 0) return undefined;
      return canonicalSpki(sigcrypto.createPublicKey(Buffer.from((bits as Buffer).subarray(1)), 'pkcs1'));
    }
    default:
      return undefined;
  }
}

/**
 * A string equal for two keys exactly when they hold the same public key (hex of its canonical
 * SPKI DER), whatever their encoding, key id, keytype or scheme; undefined when the value is not
 * an Ed25519, EC P-256/P-384 or RSA public key — such a key never counts toward a threshold.
 */
export function keyIdentity(key: Key): string | undefined {
  if (identities.has(key)) return identities.get(key);
  let identity: string | undefined;
  try {
    const parsed = parsePublicKey(key);
    identity = parsed && canonicalSpki(parsed)?.toString('hex');
  } catch {
    identity = undefined;
  }
  identities.set(key, identity);
  return identity;
}

/**
 * Verify that at least `threshold` distinct public keys among `keyIDs` (resolved in `keys`) signed
 * `meta`. Ids missing from `keys`, keys without an identity, invalid signatures and repeats of an
 * already counted key do not count. Throws TUF_THRESHOLD_NOT_MET.
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
    if (identity === undefined || signers.has(identity)) continue;
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
