// The decoding rules of docs/spec/envelope.md §Verification (steps 1–2 and 4: shape, type, payload
// bytes, signature entries, strict canonical payload), shared by openEnvelope (envelope-open.ts)
// and verifyEnvelope (envelope.ts), which apply them in the order their specs report failures.
// Every rule throws CryptoError.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { ENVELOPE_TYPE_PATTERN, MAX_ENVELOPE_TYPE_LENGTH } from '@helm/contracts/wire';
import { CryptoError } from '../errors.js';
import { acceptedCanonical } from '../fast/canonical-text.js';
import { canonicalize } from '../jcs.js';
import { type JsonLimits, parseStrictJson } from '../json.js';
import { base64UrlDecodedLength, fromBase64UrlInto } from './base64url.js';

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

/** Payload parsing limits an envelope opener takes. */
export type EnvelopeLimits = Pick<JsonLimits, 'maxBytes' | 'maxDepth'>;

const ENVELOPE_FIELDS = new Set(['type', 'payload', 'signatures']);
const SIGNATURE_FIELDS = new Set(['keyid', 'sig']);

export function malformed(message: string): never {
  throw new CryptoError('ENVELOPE_MALFORMED', message);
}

function onlyFields(value: object, allowed: Set<string>, what: string): void {
  for (const key of Object.keys(value)) if (!allowed.has(key)) malformed(`unexpected ${what} field ${key}`);
}

/** Steps 1–2 of verification: an object of exactly the envelope fields, of the expected type. */
export function checkShape(envelope: unknown, expectedType: string): asserts envelope is SignedEnvelope {
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

const encoder = new TextEncoder();

/**
 * A new array for PAE(type, payload) with a payload of `payloadLength` bytes, its header
 * `"HELMSIG1" SP len(type) SP type SP len(payload) SP` written (lengths are UTF-8 byte counts) and
 * the payload's room after it, at `payloadAt`.
 */
export function paeWithRoom(type: string, payloadLength: number): { pae: Uint8Array; payloadAt: number } {
  const header = encoder.encode(`HELMSIG1 ${encoder.encode(type).length} ${type} ${payloadLength} `);
  const pae = new Uint8Array(header.length + payloadLength);
  pae.set(header, 0);
  return { pae, payloadAt: header.length };
}

/**
 * The payload bytes (canonical base64url only, within the size limit) and PAE(type, payload),
 * decoded into one array: `payload` is the tail of `pae` after its header.
 */
export function payloadAndPae(
  envelope: SignedEnvelope,
  maxBytes: number,
): { readonly payload: Uint8Array; readonly pae: Uint8Array } {
  const text: unknown = envelope.payload;
  if (typeof text !== 'string') malformed('payload must be canonical base64url without padding');
  const { pae, payloadAt } = paeWithRoom(envelope.type, base64UrlDecodedLength(text));
  if (!fromBase64UrlInto(text, pae, payloadAt))
    malformed('payload must be canonical base64url without padding');
  if (!(maxBytes >= 0)) malformed('invalid limits: maxBytes');
  const payload = pae.subarray(payloadAt);
  if (payload.length > maxBytes) {
    throw new CryptoError('JSON_TOO_LARGE', 'payload exceeds the size limit');
  }
  return { payload, pae };
}

/** The signature list: an array of 1 to `max` entries (entries are checked one by one later). */
export function signatureList(envelope: SignedEnvelope, max: number): readonly unknown[] {
  const signatures: unknown = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) malformed('at least one signature is required');
  if (signatures.length > max) malformed(`more than ${max} signatures`);
  return signatures;
}

/** One signature entry: exactly `{keyid, sig}`, both strings. */
export function signatureEntry(entry: unknown): { keyid: string; sig: string } {
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
export function parseCanonicalPayload(payload: Uint8Array, expectedType: string, maxDepth: number): object {
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
  if ((body as { type?: unknown }).type !== expectedType) {
    throw new CryptoError('ENVELOPE_TYPE_MISMATCH', 'payload type differs from envelope type');
  }
  return body;
}

export function limitsOf(limits: EnvelopeLimits | undefined): Required<EnvelopeLimits> {
  return {
    maxBytes: limits?.maxBytes ?? DEFAULT_ENVELOPE_LIMITS.maxBytes,
    maxDepth: limits?.maxDepth ?? DEFAULT_ENVELOPE_LIMITS.maxDepth,
  };
}
