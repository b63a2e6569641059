// Signed envelopes (normative: docs/spec/envelope.md). The signature covers the pre-authentication
// encoding PAE(type, payload) = "HELMSIG1" SP len(type) SP type SP len(payload) SP payload, where
// payload is the exact RFC 8785 JCS bytes of the body and lengths are ASCII decimal byte counts.
import type { SignedEnvelope } from '@helm/contracts';
import { type Signer, verifyEd25519 } from './ed25519.js';
import { bytesEqual, fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { canonicalBytes } from './jcs.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The exact bytes an envelope signature covers. */
export function preAuthEncoding(type: string, payload: Uint8Array): Uint8Array {
  const typeBytes = encoder.encode(type);
  const head = encoder.encode(`HELMSIG1 ${typeBytes.length} ${type} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export interface EnvelopeBody {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Canonicalize `body` (whose `type` is the domain separator) and sign it with every signer. */
export function signEnvelope(body: EnvelopeBody, signers: readonly Signer[]): SignedEnvelope {
  if (typeof body.type !== 'string' || !body.type.startsWith('helm.')) {
    throw new CryptoError('ENVELOPE_MALFORMED', 'envelope body needs a helm.* type');
  }
  if (signers.length === 0) throw new CryptoError('ENVELOPE_MALFORMED', 'at least one signer is required');
  const payload = canonicalBytes(body);
  const pae = preAuthEncoding(body.type, payload);
  return {
    type: body.type,
    payload: toBase64Url(payload),
    signatures: signers.map((s) => ({ keyid: s.keyId, sig: toBase64Url(s.sign(pae)) })),
  };
}

/** Resolves a key id to its raw Ed25519 public key, or undefined when unknown. */
export type PublicKeyLookup = (keyId: string) => Uint8Array | undefined;

export interface VerifiedEnvelope<T> {
  readonly body: T;
  /** The exact JCS bytes that were signed. */
  readonly payload: Uint8Array;
  /** Key ids whose signatures verified. */
  readonly keyIds: readonly string[];
}

/**
 * Verify an envelope over its exact payload bytes: the type must match, the payload must be
 * canonical JCS whose `type` equals the envelope type, and every listed signature must verify
 * under a known key (at least one signature is required). Throws CryptoError otherwise.
 */
export function verifyEnvelope<T extends EnvelopeBody = EnvelopeBody>(
  envelope: SignedEnvelope,
  expectedType: string,
  lookup: PublicKeyLookup,
): VerifiedEnvelope<T> {
  if (envelope.type !== expectedType) {
    throw new CryptoError('ENVELOPE_TYPE_MISMATCH', `expected ${expectedType}, got ${String(envelope.type)}`);
  }
  const payload = typeof envelope.payload === 'string' ? fromBase64Url(envelope.payload) : undefined;
  if (!payload || !Array.isArray(envelope.signatures) || envelope.signatures.length === 0) {
    throw new CryptoError('ENVELOPE_MALFORMED', 'envelope payload or signatures malformed');
  }
  const pae = preAuthEncoding(envelope.type, payload);
  const keyIds: string[] = [];
  for (const signature of envelope.signatures) {
    const key = lookup(signature.keyid);
    if (!key) throw new CryptoError('ENVELOPE_KEY_UNKNOWN', `unknown key ${signature.keyid}`);
    const sig = fromBase64Url(signature.sig);
    if (!sig || !verifyEd25519(key, pae, sig)) {
      throw new CryptoError('ENVELOPE_SIGNATURE_INVALID', `signature by ${signature.keyid} does not verify`);
    }
    if (keyIds.includes(signature.keyid)) throw new CryptoError('ENVELOPE_MALFORMED', 'duplicate signer');
    keyIds.push(signature.keyid);
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(payload));
  } catch {
    throw new CryptoError('ENVELOPE_MALFORMED', 'payload is not UTF-8 JSON');
  }
  if (!bytesEqual(canonicalBytes(body), payload)) {
    throw new CryptoError('ENVELOPE_NOT_CANONICAL', 'payload is not RFC 8785 canonical');
  }
  if ((body as EnvelopeBody).type !== expectedType) {
    throw new CryptoError('ENVELOPE_TYPE_MISMATCH', 'payload type differs from envelope type');
  }
  return { body: body as T, payload, keyIds };
}
