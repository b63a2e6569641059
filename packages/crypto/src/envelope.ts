// Verifying signed envelopes (normative: docs/spec/envelope.md §Verification): structure, type,
// signatures (strict Ed25519 over PAE(type, payload)), then the strict canonical payload. The
// decoding rules are shared with openEnvelope (internal/envelope-decode.ts); this entry point
// re-exports the opener (envelope-open.ts), so `@helm/crypto/envelope` is the whole envelope API
// but signing (envelope-sign.ts).
import { MAX_ENVELOPE_SIGNATURES } from '@helm/contracts/wire';
// The default backend: node:crypto in Node, noble in a browser (package.json "imports").
import { type Ed25519Backend, keyIdFor, verifyEd25519 } from './ed25519.js';
import { bytesEqual, fromBase64Url } from './encoding.js';
import type { EnvelopeBody, TypedBody } from './envelope-open.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import {
  checkShape,
  type EnvelopeLimits,
  limitsOf,
  malformed,
  parseCanonicalPayload,
  payloadAndPae,
  signatureEntry,
  signatureList,
} from './internal/envelope-decode.js';

export {
  DEFAULT_ENVELOPE_LIMITS,
  type EnvelopeBody,
  isEnvelopeType,
  type OpenEnvelopeOptions,
  type OpenedEnvelope,
  openEnvelope,
  preAuthEncoding,
  type TypedBody,
} from './envelope-open.js';

/** Resolves a key id to its raw Ed25519 public key, or undefined when unknown. */
export type PublicKeyLookup = (keyId: string) => Uint8Array | undefined;

export interface VerifiedEnvelope<T> {
  readonly body: T;
  /** The exact JCS bytes that were signed. */
  readonly payload: Uint8Array;
  /** Key ids whose signatures verified, in envelope order. */
  readonly keyIds: readonly string[];
}

export interface VerifyEnvelopeOptions {
  /**
   * Multi-signer threshold. Unset (default): every listed signature must be by a known key and
   * verify. Set to N ≥ 1: signatures by unknown keys are skipped, but any signature by a known key
   * must verify, and at least N distinct known keys must have signed.
   */
  readonly threshold?: number;
  /** Ed25519 backend (default node). */
  readonly backend?: Ed25519Backend;
  /** Payload parsing limits (default DEFAULT_ENVELOPE_LIMITS). */
  readonly limits?: EnvelopeLimits;
}

/** The answer of verifyEnvelope: the verified envelope, or the CryptoError code and message of the first failure. */
export type EnvelopeCheck<T> =
  | ({ readonly ok: true } & VerifiedEnvelope<T>)
  | { readonly ok: false; readonly code: CryptoErrorCode; readonly message: string };

/**
 * Verify an envelope over its exact payload bytes (docs/spec/envelope.md §Verification):
 * structure, type, signatures (strict Ed25519 over the PAE), then the payload is parsed strictly
 * and must be canonical JCS whose `type` equals the envelope type. Never throws on its input: a
 * failure is `{ ok: false, code, message }` with the CryptoErrorCode of the first rule broken (an
 * exception thrown by the caller's key lookup or backend propagates). `keys` is a lookup function
 * or anything with a `lookup(keyId)` method (e.g. a KeyRing). `openVerifiedEnvelope` is the same
 * check as a throwing opener.
 *
 * @example
 * ```ts
 * import { verifyEnvelope } from '@helm/crypto/envelope';
 *
 * declare const envelope: unknown;
 * declare const trustedKeys: ReadonlyMap<string, Uint8Array>;
 * // ok only when a trusted key signed exactly these canonical bytes; never throws
 * const check = verifyEnvelope(envelope, 'helm.decision.v1', (id) => trustedKeys.get(id));
 * if (check.ok) console.log(check.body.type, check.keyIds);
 * else console.log(check.code, check.message);
 * ```
 */
export function verifyEnvelope<T extends TypedBody = EnvelopeBody>(
  envelope: unknown,
  expectedType: string,
  keys: PublicKeyLookup | { lookup(keyId: string): Uint8Array | undefined },
  options: VerifyEnvelopeOptions = {},
): EnvelopeCheck<T> {
  try {
    const { body, payload, keyIds } = openVerifiedEnvelope<T>(envelope, expectedType, keys, options);
    return { ok: true, body, payload, keyIds };
  } catch (error) {
    if (error instanceof CryptoError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

/**
 * verifyEnvelope as an opener for callers that fail as a whole (loaders, constructors, one-shot
 * checks): the verified body, payload and signer key ids, or a thrown CryptoError with the code
 * verifyEnvelope would report.
 */
export function openVerifiedEnvelope<T extends TypedBody = EnvelopeBody>(
  envelope: unknown,
  expectedType: string,
  keys: PublicKeyLookup | { lookup(keyId: string): Uint8Array | undefined },
  options: VerifyEnvelopeOptions = {},
): VerifiedEnvelope<T> {
  const lookup: PublicKeyLookup = typeof keys === 'function' ? keys : (id) => keys.lookup(id);
  checkShape(envelope, expectedType);
  const limits = limitsOf(options.limits);
  const { payload, pae } = payloadAndPae(envelope, limits.maxBytes);
  const signatures = signatureList(envelope, MAX_ENVELOPE_SIGNATURES);
  const threshold = options.threshold;
  if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 1)) {
    throw new CryptoError('ENVELOPE_MALFORMED', 'threshold must be a positive integer');
  }

  // 3. signatures over PAE(type, exact payload bytes)
  const keyIds: string[] = [];
  const seenKeys: Uint8Array[] = [];
  for (const entry of signatures) {
    const { keyid, sig } = signatureEntry(entry);
    if (keyIds.includes(keyid)) malformed('duplicate signer');
    const key = lookup(keyid);
    if (!(key instanceof Uint8Array) || key.length !== 32 || keyIdFor(key) !== keyid) {
      // unknown key, or a lookup answering with a key that is not the one this id names
      if (threshold !== undefined) continue;
      throw new CryptoError('ENVELOPE_KEY_UNKNOWN', `unknown key ${keyid}`);
    }
    const sigBytes = fromBase64Url(sig);
    if (!sigBytes || !verifyEd25519(key, pae, sigBytes, options.backend).ok) {
      throw new CryptoError('ENVELOPE_SIGNATURE_INVALID', `signature by ${keyid} does not verify`);
    }
    if (seenKeys.some((k) => bytesEqual(k, key))) malformed('duplicate signer');
    seenKeys.push(key);
    keyIds.push(keyid);
  }
  if (keyIds.length < (threshold ?? 1)) {
    throw new CryptoError(
      'ENVELOPE_THRESHOLD_NOT_MET',
      `${keyIds.length} valid signature(s) by known keys, ${threshold} required`,
    );
  }

  // 4. the signed bytes must be strict, canonical JSON of a body of the same type
  const body = parseCanonicalPayload(payload, expectedType, limits.maxDepth);
  return { body: body as T, payload, keyIds };
}
