// Ed25519 verification and key ids (normative: docs/spec/signatures.md), behind one backend
// interface with two interchangeable implementations: `node` (node:crypto / OpenSSL, the fast
// default) and `noble` (@noble/curves, portable and an independent cross-check). Both enforce the
// same strict verification policy. This module is the verify side: key pairs, signers and the
// backend objects (which sign too) are in ed25519-sign.ts, and the noble backend and the backend
// registry in ed25519-backends.ts, so that a verifier's import closure holds neither.
import { KEY_ID_PATTERN, KEY_ID_PREFIX } from '@helm/contracts/wire';
// The default backend: node:crypto in Node, noble in a browser (package.json "imports").
import { isCachedValidKey, nodeVerify } from '#platform-ed25519';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import { sha256Hex } from './hash.js';
import {
  isValidPublicKey,
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  signaturePrecheck,
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

/**
 * The answer of verifyEd25519. A failure says why: KEY_INVALID (the key breaks rules A1–A3 or is
 * not 32 bytes), SIGNATURE_MALFORMED (not 64 bytes, S ≥ L, or R non-canonical or of small order:
 * rules S1, P1, P2) or SIGNATURE_INVALID (well-formed, but the equation does not hold for this key
 * and message).
 */
export type SignatureCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: Extract<CryptoErrorCode, 'KEY_INVALID' | 'SIGNATURE_MALFORMED' | 'SIGNATURE_INVALID'>;
      readonly message: string;
    };

type SignatureFailure = Extract<SignatureCheck, { ok: false }>;
const failure = (code: SignatureFailure['code'], message: string): SignatureCheck =>
  Object.freeze({ ok: false, code, message });
const VERIFIED: SignatureCheck = Object.freeze({ ok: true });
const KEY_INVALID = failure('KEY_INVALID', 'the public key is not a valid strict Ed25519 key');
const SIGNATURE_MALFORMED = failure('SIGNATURE_MALFORMED', 'not a canonical 64-byte Ed25519 signature');
const SIGNATURE_INVALID = failure('SIGNATURE_INVALID', 'the signature does not verify under this key');

/**
 * Strict Ed25519 verification (docs/spec/signatures.md) with the given backend (default node).
 * Never throws: malformed keys and signatures are failures with a code. The backend decides; the
 * code of a failure is read from the same policy rules afterwards (the key's validity from the
 * validated-key cache, so a failure costs no second curve decoding).
 *
 * @example
 * ```ts
 * import { verifyEd25519 } from '@helm/crypto/ed25519';
 *
 * declare const publicKey: Uint8Array;
 * declare const message: Uint8Array;
 * declare const signature: Uint8Array;
 * const check = verifyEd25519(publicKey, message, signature); // never throws
 * if (!check.ok) console.log(check.code); // KEY_INVALID | SIGNATURE_MALFORMED | SIGNATURE_INVALID
 * ```
 */
export function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  backend?: Ed25519Backend,
): SignatureCheck {
  const ok =
    backend === undefined
      ? nodeVerify(publicKey, message, signature)
      : backend.verify(publicKey, message, signature);
  if (ok) return VERIFIED;
  if (!isCachedValidKey(publicKey)) return KEY_INVALID;
  return signaturePrecheck(publicKey, signature) ? SIGNATURE_INVALID : SIGNATURE_MALFORMED;
}
