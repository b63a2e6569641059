// Signed envelopes (normative: docs/spec/envelope.md). The signature covers the pre-authentication
// encoding PAE(type, payload) = "HELMSIG1" SP len(type) SP type SP len(payload) SP payload, where
// payload is the exact RFC 8785 JCS bytes of the body and lengths are ASCII decimal byte counts.
// This module verifies and opens envelopes; signing is in envelope-sign.ts (the verify path's
// import closure holds no signing code).
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  ENVELOPE_TYPE_PATTERN,
  MAX_ENVELOPE_SIGNATURES,
  MAX_ENVELOPE_TYPE_LENGTH,
} from '@helm/contracts/wire';
import { type Ed25519Backend, keyIdFor, nodeBackend } from './ed25519.js';
import { bytesEqual, fromBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { acceptedCanonical } from './fast/canonical-text.js';
import { canonicalize } from './jcs.js';
import { type JsonLimits, parseStrictJson } from './json.js';

const encoder = new TextEncoder();
/** Strict UTF-8: invalid sequences throw; a BOM is kept (and then rejected by the parser). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const ENVELOPE_TYPE = new RegExp(ENVELOPE_TYPE_PATTERN);
/** Default limits for parsing an envelope payload. */
export const DEFAULT_ENVELOPE_LIMITS: Readonly<{ maxBytes: number; maxDepth: number }> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 128,
});

/** True for a well-formed envelope type string (e.g. `helm.receipt.v1`; contracts' ENVELOPE_TYPE_PATTERN). */
export function isEnvelopeType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ENVELOPE_TYPE_LENGTH && ENVELOPE_TYPE.test(value);
}

/**
 * The PAE header text `"HELMSIG1" SP len(type) SP type SP len(payload) SP` for a payload of
 * `payloadLength` bytes (lengths are UTF-8 byte counts). PAE = UTF-8(header) ‖ payload.
 */
function preAuthHeader(type: string, payloadLength: number): string {
  return `HELMSIG1 ${encoder.encode(type).length} ${type} ${payloadLength} `;
}

/** The exact bytes an envelope signature covers: a fresh array owning its buffer. */
export function preAuthEncoding(type: string, payload: Uint8Array): Uint8Array {
  const head = encoder.encode(preAuthHeader(type, payload.length));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export interface EnvelopeBody {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Anything with a string `type`: interfaces without an index signature are accepted too. */
export interface TypedBody {
  readonly type: string;
}

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
  readonly limits?: Pick<JsonLimits, 'maxBytes' | 'maxDepth'>;
}

const ENVELOPE_FIELDS = new Set(['type', 'payload', 'signatures']);
const SIGNATURE_FIELDS = new Set(['keyid', 'sig']);

function malformed(message: string): never {
  throw new CryptoError('ENVELOPE_MALFORMED', message);
}

function onlyFields(value: object, allowed: Set<string>, what: string): void {
  for (const key of Object.keys(value)) if (!allowed.has(key)) malformed(`unexpected ${what} field ${key}`);
}

/** Steps 1–2 of verification: an object of exactly the envelope fields, of the expected type. */
function checkShape(envelope: unknown, expectedType: string): asserts envelope is SignedEnvelope {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    malformed('envelope must be an object');
  }
  onlyFields(envelope, ENVELOPE_FIELDS, 'envelope');
  const type: unknown = (envelope as { type?: unknown }).type;
  if (typeof type !== 'string') malformed('envelope type must be a string');
  // the caller's expectation is the domain separator
  if (type !== expectedType) {
    throw new CryptoError('ENVELOPE_TYPE_MISMATCH', `expected ${expectedType}, got ${type}`);
  }
  if (!isEnvelopeType(expectedType)) malformed('envelope type is not a helm.<name>.v<N> type');
}

/** The payload bytes: canonical base64url only, within the size limit. */
function payloadBytes(envelope: SignedEnvelope, maxBytes: number): Uint8Array {
  const payload = typeof envelope.payload === 'string' ? fromBase64Url(envelope.payload) : undefined;
  if (!payload) malformed('payload must be canonical base64url without padding');
  if (!(maxBytes >= 0)) malformed('invalid limits: maxBytes');
  if (payload.length > maxBytes) {
    throw new CryptoError('JSON_TOO_LARGE', 'payload exceeds the size limit');
  }
  return payload;
}

/** The signature list: an array of 1 to `max` entries (entries are checked one by one later). */
function signatureList(envelope: SignedEnvelope, max: number): readonly unknown[] {
  const signatures: unknown = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) malformed('at least one signature is required');
  if (signatures.length > max) malformed(`more than ${max} signatures`);
  return signatures;
}

/** One signature entry: exactly `{keyid, sig}`, both strings. */
function signatureEntry(entry: unknown): { keyid: string; sig: string } {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) malformed('signature entry');
  onlyFields(entry, SIGNATURE_FIELDS, 'signature');
  const { keyid, sig } = entry as { keyid: unknown; sig: unknown };
  if (typeof keyid !== 'string' || typeof sig !== 'string')
    malformed('signature keyid and sig must be strings');
  return { keyid, sig };
}

/**
 * Step 4 (fast path for provably canonical text: fast/canonical-text.ts; everything else takes the
 * plain rule below): the payload bytes must be strict UTF-8 JSON (the strict parser, within `maxDepth`), exactly
 * its own RFC 8785 canonical form, and an object whose `type` is `expectedType`.
 */
function parseCanonicalPayload(payload: Uint8Array, expectedType: string, maxDepth: number): object {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    malformed('payload is not valid UTF-8');
  }
  let body: unknown = acceptedCanonical(text, maxDepth);
  if (body !== undefined) return typedBody(body, expectedType);
  try {
    // the size was checked on the bytes
    body = parseStrictJson(text, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth, nullPrototype: false });
  } catch (error) {
    if (error instanceof CryptoError && error.code === 'JSON_TOO_DEEP') throw error;
    throw new CryptoError('ENVELOPE_MALFORMED', `payload is not strict JSON: ${String(error)}`);
  }
  // UTF-8 is a bijection between well-formed strings and valid byte strings, so comparing the
  // canonical text with the decoded payload text is comparing the bytes.
  if (canonicalize(body) !== text) {
    throw new CryptoError('ENVELOPE_NOT_CANONICAL', 'payload is not RFC 8785 canonical');
  }
  return typedBody(body, expectedType);
}

function typedBody(body: unknown, expectedType: string): object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    malformed('payload must be a JSON object');
  }
  if ((body as EnvelopeBody).type !== expectedType) {
    throw new CryptoError('ENVELOPE_TYPE_MISMATCH', 'payload type differs from envelope type');
  }
  return body;
}

function limitsOf(limits: Pick<JsonLimits, 'maxBytes' | 'maxDepth'> | undefined): {
  maxBytes: number;
  maxDepth: number;
} {
  return {
    maxBytes: limits?.maxBytes ?? DEFAULT_ENVELOPE_LIMITS.maxBytes,
    maxDepth: limits?.maxDepth ?? DEFAULT_ENVELOPE_LIMITS.maxDepth,
  };
}

/**
 * Verify an envelope over its exact payload bytes (docs/spec/envelope.md §Verification):
 * structure, type, signatures (strict Ed25519 over the PAE), then the payload is parsed strictly
 * and must be canonical JCS whose `type` equals the envelope type. Throws CryptoError otherwise.
 * `keys` is a lookup function or anything with a `lookup(keyId)` method (e.g. a KeyRing).
 *
 * @example
 * ```ts
 * import type { SignedEnvelope } from '@helm/contracts/envelope';
 * import { verifyEnvelope } from '@helm/crypto/envelope';
 *
 * declare const envelope: SignedEnvelope;
 * declare const trustedKeys: ReadonlyMap<string, Uint8Array>;
 * // Throws CryptoError unless a trusted key signed exactly these canonical bytes.
 * const { body, keyIds } = verifyEnvelope(envelope, 'helm.decision.v1', (id) => trustedKeys.get(id));
 * console.log(body.type, keyIds);
 * ```
 */
export function verifyEnvelope<T extends TypedBody = EnvelopeBody>(
  envelope: SignedEnvelope,
  expectedType: string,
  keys: PublicKeyLookup | { lookup(keyId: string): Uint8Array | undefined },
  options: VerifyEnvelopeOptions = {},
): VerifiedEnvelope<T> {
  const lookup: PublicKeyLookup = typeof keys === 'function' ? keys : (id) => keys.lookup(id);
  checkShape(envelope, expectedType);
  const limits = limitsOf(options.limits);
  const payload = payloadBytes(envelope, limits.maxBytes);
  const signatures = signatureList(envelope, MAX_ENVELOPE_SIGNATURES);
  const threshold = options.threshold;
  if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 1)) {
    throw new CryptoError('ENVELOPE_MALFORMED', 'threshold must be a positive integer');
  }
  const backend = options.backend ?? nodeBackend;

  // 3. signatures over PAE(type, exact payload bytes)
  const pae = preAuthEncoding(envelope.type, payload);
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
    if (!sigBytes || !backend.verify(key, pae, sigBytes)) {
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

export interface OpenEnvelopeOptions {
  /** Payload parsing limits (default DEFAULT_ENVELOPE_LIMITS). */
  readonly limits?: Pick<JsonLimits, 'maxBytes' | 'maxDepth'>;
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
 * import { openEnvelope } from '@helm/crypto/envelope';
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
  const payload = payloadBytes(envelope, limits.maxBytes);
  const body = parseCanonicalPayload(payload, expectedType, limits.maxDepth);
  return { body: body as T, payload, pae: preAuthEncoding(expectedType, payload), signatures };
}
