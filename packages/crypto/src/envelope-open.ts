// Opening signed envelopes (normative: docs/spec/envelope.md). The signature covers the
// pre-authentication encoding PAE(type, payload) = "HELMSIG1" SP len(type) SP type SP len(payload)
// SP payload, where payload is the exact RFC 8785 JCS bytes of the body and lengths are ASCII
// decimal byte counts. This module decodes an envelope strictly without verifying it: the opener
// of record verifiers whose key depends on signed fields. verifyEnvelope is in envelope.ts and
// signing in envelope-sign.ts, so a record verifier's import closure holds neither.

import { MAX_ENVELOPE_SIGNATURES } from '@helm/contracts/wire';
import { fromBase64Url } from './encoding.js';
import {
  checkShape,
  DEFAULT_ENVELOPE_LIMITS,
  type EnvelopeLimits,
  isEnvelopeType,
  limitsOf,
  malformed,
  paeWithRoom,
  parseCanonicalPayload,
  payloadAndPae,
  signatureEntry,
  signatureList,
} from './internal/envelope-decode.js';

export { DEFAULT_ENVELOPE_LIMITS, isEnvelopeType };

/** The exact bytes an envelope signature covers: a fresh array owning its buffer. */
export function preAuthEncoding(type: string, payload: Uint8Array): Uint8Array {
  const { pae, payloadAt } = paeWithRoom(type, payload.length);
  pae.set(payload, payloadAt);
  return pae;
}

export interface EnvelopeBody {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Anything with a string `type`: interfaces without an index signature are accepted too. */
export interface TypedBody {
  readonly type: string;
}

export interface OpenEnvelopeOptions {
  /** Payload parsing limits (default DEFAULT_ENVELOPE_LIMITS). */
  readonly limits?: EnvelopeLimits;
  /** Most signatures accepted (default and ceiling MAX_ENVELOPE_SIGNATURES). */
  readonly maxSignatures?: number;
}

/** A decoded, strictly parsed envelope whose signatures are NOT yet verified. */
export interface OpenedEnvelope<T> {
  /** The parsed body: strict JSON, canonical, `type` equal to the envelope type. Unauthenticated. */
  readonly body: T;
  /** The exact JCS payload bytes. */
  readonly payload: Uint8Array;
  /** PAE(type, payload): the bytes every signature must cover. */
  readonly pae: Uint8Array;
  /** The signature entries in envelope order, `sig` decoded from canonical base64url. */
  readonly signatures: readonly { readonly keyid: string; readonly sig: Uint8Array }[];
}

/**
 * The strict decoder behind every verifier whose key depends on signed fields (receipts: key valid
 * at the body's `trust_seq`; ProofGraph nodes: role from `kind`, at `lamport`; checkpoints): the
 * same structure, base64url, size, strict-parse and canonical-form rules as verifyEnvelope, in the
 * order their specs report failures (shape and payload first, then key, then signature). Nothing in
 * the result is authenticated: the caller selects the key from the body, then checks
 * `verifyEd25519(key, opened.pae, opened.signatures[i].sig)` before acting on any field.
 * Throws CryptoError (ENVELOPE_MALFORMED, ENVELOPE_TYPE_MISMATCH, ENVELOPE_NOT_CANONICAL,
 * JSON_TOO_LARGE, JSON_TOO_DEEP).
 *
 * @example
 * ```ts
 * import { verifyEd25519 } from '@helm/crypto/ed25519';
 * import { openEnvelope } from '@helm/crypto/envelope-open';
 *
 * declare const envelope: unknown;
 * declare const keyAt: (keyid: string, seq: number) => Uint8Array | undefined;
 * // Decode strictly (throws CryptoError), pick the key from the signed fields, then verify.
 * const opened = openEnvelope<{ type: string; keyid: string; seq: number }>(envelope, 'helm.example.v1', {
 *   maxSignatures: 1,
 * });
 * const only = opened.signatures[0];
 * const key = only && keyAt(opened.body.keyid, opened.body.seq);
 * if (!only || !key || only.keyid !== opened.body.keyid || !verifyEd25519(key, opened.pae, only.sig)) {
 *   throw new Error('not authentic');
 * }
 * ```
 */
export function openEnvelope<T extends TypedBody = EnvelopeBody>(
  envelope: unknown,
  expectedType: string,
  options: OpenEnvelopeOptions = {},
): OpenedEnvelope<T> {
  checkShape(envelope, expectedType);
  const max = Math.min(options.maxSignatures ?? MAX_ENVELOPE_SIGNATURES, MAX_ENVELOPE_SIGNATURES);
  const entries = signatureList(envelope, max);
  const signatures: { keyid: string; sig: Uint8Array }[] = [];
  for (const entry of entries) {
    const { keyid, sig } = signatureEntry(entry);
    const bytes = fromBase64Url(sig);
    if (!bytes) malformed('signature must be canonical base64url without padding');
    signatures.push({ keyid, sig: bytes });
  }
  const limits = limitsOf(options.limits);
  const { payload, pae } = payloadAndPae(envelope, limits.maxBytes);
  const body = parseCanonicalPayload(payload, expectedType, limits.maxDepth);
  return { body: body as T, payload, pae, signatures };
}
