// Ed25519 key import/export (normative: docs/spec/signatures.md §Key formats): DER/PEM
// SubjectPublicKeyInfo (RFC 8410) and PKCS#8 OneAsymmetricKey (RFC 5958, v1 and v2),
// and JWK OKP (RFC 8037). Pure functions: no I/O. Every public key that is imported is checked
// against the strict key rules A1–A3; every private key is checked against its embedded public
// key when one is present. The raw form (`importPublicKeyRaw`) is @helm/crypto's: the TCB reads
// keys only as raw 32 bytes.
import { KEY_ID_PREFIX } from '@helm/contracts/wire';
import { keyIdFor } from '@helm/crypto/ed25519';
import { keyPairFromSeed } from '@helm/crypto/ed25519-sign';
import { fromBase64Url, toBase64Url } from '@helm/crypto/encoding';
import { CryptoError } from '@helm/crypto/errors';
import { importPublicKeyRaw } from '@helm/crypto/keyring';
import {
  concatBytes,
  encodeTlv,
  OID_ED25519,
  readAll,
  sameBytes,
  TAG_BIT_STRING,
  TAG_CONTEXT_1,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
} from './der.js';

function bad(message: string): never {
  throw new CryptoError('KEY_ENCODING_INVALID', message);
}

const ALGORITHM_ID = encodeTlv(TAG_SEQUENCE, encodeTlv(TAG_OID, OID_ED25519));

function checkAlgorithm(der: Uint8Array): void {
  const parts = readAll(der);
  if (!parts || parts.length !== 1 || parts[0]?.tag !== TAG_OID || !sameBytes(parts[0].value, OID_ED25519)) {
    bad('algorithm is not id-Ed25519 (1.3.101.112, no parameters)');
  }
}

// ── SPKI ─────────────────────────────────────────────────────────────────────────────────────

/** DER SubjectPublicKeyInfo of a raw public key. */
export function exportPublicKeySpki(publicKey: Uint8Array): Uint8Array {
  const raw = importPublicKeyRaw(publicKey);
  return encodeTlv(
    TAG_SEQUENCE,
    concatBytes(ALGORITHM_ID, encodeTlv(TAG_BIT_STRING, concatBytes(Uint8Array.of(0), raw))),
  );
}

/** Raw public key from DER SubjectPublicKeyInfo (strict DER; validated key). */
export function importPublicKeySpki(der: Uint8Array): Uint8Array {
  const outer = readAll(der);
  if (!outer || outer.length !== 1 || outer[0]?.tag !== TAG_SEQUENCE) bad('SPKI is not one DER SEQUENCE');
  const fields = readAll(outer[0].value);
  if (!fields || fields.length !== 2) bad('SPKI must have algorithm and subjectPublicKey');
  const [alg, bits] = fields as [(typeof fields)[0], (typeof fields)[0]];
  if (alg.tag !== TAG_SEQUENCE) bad('SPKI algorithm is not a SEQUENCE');
  checkAlgorithm(alg.value);
  if (bits.tag !== TAG_BIT_STRING || bits.value.length !== 33 || bits.value[0] !== 0) {
    bad('SPKI subjectPublicKey must be a 33-byte BIT STRING with 0 unused bits');
  }
  return importPublicKeyRaw(bits.value.subarray(1));
}

// ── PKCS#8 ───────────────────────────────────────────────────────────────────────────────────

/** DER PKCS#8 (OneAsymmetricKey v1, RFC 8410 §7) of a seed. */
export function exportPrivateKeyPkcs8(seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) bad('Ed25519 seed must be 32 bytes');
  return encodeTlv(
    TAG_SEQUENCE,
    concatBytes(
      encodeTlv(TAG_INTEGER, Uint8Array.of(0)),
      ALGORITHM_ID,
      encodeTlv(TAG_OCTET_STRING, encodeTlv(TAG_OCTET_STRING, seed)),
    ),
  );
}

/**
 * Seed from DER PKCS#8: v1 (version 0) or v2 (version 1, with the [1] public key, which must
 * match the seed's). Attributes ([0]) are rejected.
 */
export function importPrivateKeyPkcs8(der: Uint8Array): Uint8Array {
  const outer = readAll(der);
  if (!outer || outer.length !== 1 || outer[0]?.tag !== TAG_SEQUENCE) bad('PKCS#8 is not one DER SEQUENCE');
  const fields = readAll(outer[0].value);
  if (!fields || fields.length < 3 || fields.length > 4) bad('PKCS#8 has an unexpected number of fields');
  const [version, alg, key, pub] = fields;
  const v = version?.tag === TAG_INTEGER && version.value.length === 1 ? version.value[0] : -1;
  if (v !== 0 && v !== 1) bad('PKCS#8 version must be 0 (v1) or 1 (v2)');
  if (v === 0 && pub !== undefined) bad('PKCS#8 v1 cannot carry a public key');
  if (alg?.tag !== TAG_SEQUENCE) bad('PKCS#8 algorithm is not a SEQUENCE');
  checkAlgorithm(alg.value);
  const inner = key?.tag === TAG_OCTET_STRING ? readAll(key.value) : undefined;
  if (!inner || inner.length !== 1 || inner[0]?.tag !== TAG_OCTET_STRING || inner[0].value.length !== 32) {
    bad('PKCS#8 privateKey must wrap a 32-byte OCTET STRING (CurvePrivateKey)');
  }
  const seed = Uint8Array.from(inner[0].value);
  if (pub !== undefined) {
    if (pub.tag !== TAG_CONTEXT_1 || pub.value.length !== 33 || pub.value[0] !== 0) {
      bad('PKCS#8 v2 publicKey must be [1] with a 32-byte key and 0 unused bits');
    }
    if (!sameBytes(pub.value.subarray(1), keyPairFromSeed(seed).publicKey)) {
      throw new CryptoError('KEY_INVALID', 'PKCS#8 public key does not match the private key');
    }
  }
  return seed;
}

// ── PEM ──────────────────────────────────────────────────────────────────────────────────────

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard padded base64 (RFC 4648 §4), written from the base64url one (same bits, other alphabet). */
function encodeBase64(bytes: Uint8Array): string {
  const url = toBase64Url(bytes);
  return url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (url.length % 4)) % 4);
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = encodeBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(label: string, pem: string): Uint8Array {
  if (typeof pem !== 'string') bad('PEM must be a string');
  const m = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END ([A-Z0-9 ]+)-----\r?\n?$/.exec(
    pem.trim() + '\n',
  );
  if (!m || m[1] !== label || m[3] !== label) bad(`expected a single PEM block labelled ${label}`);
  const body = (m[2] as string).replace(/\r?\n/g, '');
  if (!B64.test(body) || body.length % 4 !== 0) bad('PEM body is not base64');
  // the strict base64url decoder refuses non-zero trailing bits; the re-encoding refuses bad padding
  const der = fromBase64Url(body.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
  if (der === undefined || encodeBase64(der) !== body) bad('PEM body is not canonical base64');
  return der;
}

export function exportPublicKeyPem(publicKey: Uint8Array): string {
  return toPem('PUBLIC KEY', exportPublicKeySpki(publicKey));
}

export function importPublicKeyPem(pem: string): Uint8Array {
  return importPublicKeySpki(fromPem('PUBLIC KEY', pem));
}

export function exportPrivateKeyPem(seed: Uint8Array): string {
  return toPem('PRIVATE KEY', exportPrivateKeyPkcs8(seed));
}

export function importPrivateKeyPem(pem: string): Uint8Array {
  return importPrivateKeyPkcs8(fromPem('PRIVATE KEY', pem));
}

// ── JWK (RFC 8037) ───────────────────────────────────────────────────────────────────────────

export interface Ed25519PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
}

export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  readonly d: string;
}

/** Public JWK with `kid` = keyIdFor(publicKey). */
export function exportPublicKeyJwk(publicKey: Uint8Array): Ed25519PublicJwk {
  const raw = importPublicKeyRaw(publicKey);
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(raw), kid: keyIdFor(raw) };
}

/** Private JWK (`d` = base64url seed) with `kid` = key id of its public key. */
export function exportPrivateKeyJwk(seed: Uint8Array): Ed25519PrivateJwk {
  const { publicKey, keyId } = keyPairFromSeed(seed);
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey), d: toBase64Url(seed), kid: keyId };
}

function jwkFields(jwk: unknown): Record<string, unknown> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) bad('JWK must be an object');
  const o = jwk as Record<string, unknown>;
  if (o.kty !== 'OKP' || o.crv !== 'Ed25519') bad('JWK must have kty "OKP" and crv "Ed25519"');
  if (o.alg !== undefined && o.alg !== 'EdDSA' && o.alg !== 'Ed25519')
    bad('JWK alg must be EdDSA or Ed25519');
  return o;
}

/** Raw public key from a JWK (`d`, if present, is ignored; `kid`, if ours, must match). */
export function importPublicKeyJwk(jwk: unknown): Uint8Array {
  const o = jwkFields(jwk);
  const x = typeof o.x === 'string' ? fromBase64Url(o.x) : undefined;
  if (!x || x.length !== 32) bad('JWK x must be base64url of 32 bytes');
  const raw = importPublicKeyRaw(x);
  if (typeof o.kid === 'string' && o.kid.startsWith(KEY_ID_PREFIX) && o.kid !== keyIdFor(raw)) {
    throw new CryptoError('KEY_INVALID', 'JWK kid does not match its key');
  }
  return raw;
}

/** Seed from a private JWK; `x` must be the seed's public key. */
export function importPrivateKeyJwk(jwk: unknown): Uint8Array {
  const o = jwkFields(jwk);
  const d = typeof o.d === 'string' ? fromBase64Url(o.d) : undefined;
  if (!d || d.length !== 32) bad('JWK d must be base64url of 32 bytes');
  const pub = importPublicKeyJwk(o);
  if (!sameBytes(pub, keyPairFromSeed(d).publicKey)) {
    throw new CryptoError('KEY_INVALID', 'JWK x does not match d');
  }
  return d;
}
