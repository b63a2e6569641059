// Shared strict decoding of a single-signature HELM envelope: canonical base64url, canonical JCS
// payload, exactly one {keyid, sig}. Signature verification is left to the caller (it needs the key).
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalize, fromBase64Url } from '@helm/crypto';

export interface DecodedEnvelope {
  readonly body: Record<string, unknown>;
  readonly payload: Uint8Array;
  readonly keyid: string;
  readonly sig: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeEnvelope(envelope: unknown, type: string): DecodedEnvelope | string {
  if (typeof envelope !== 'object' || envelope === null) return 'not an envelope';
  const env = envelope as Partial<SignedEnvelope>;
  for (const k of Object.keys(env)) {
    if (k !== 'type' && k !== 'payload' && k !== 'signatures') return `unknown envelope field ${k}`;
  }
  if (env.type !== type) return `envelope type is not ${type}`;
  if (typeof env.payload !== 'string') return 'payload must be a string';
  const sigs = env.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) return 'exactly one signature required';
  const s = sigs[0] as { keyid?: unknown; sig?: unknown } | null;
  if (typeof s !== 'object' || s === null || Object.keys(s).length !== 2) return 'signature entry malformed';
  if (typeof s.keyid !== 'string' || typeof s.sig !== 'string') return 'signature entry malformed';
  const payload = fromBase64Url(env.payload);
  const sig = fromBase64Url(s.sig);
  if (!payload || !sig) return 'payload or signature is not canonical base64url';
  let body: unknown;
  try {
    const text = decoder.decode(payload);
    body = JSON.parse(text);
    if (canonicalize(body) !== text) return 'payload is not RFC 8785 canonical JSON';
  } catch {
    return 'payload is not canonical UTF-8 JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'payload must be an object';
  return { body: body as Record<string, unknown>, payload, keyid: s.keyid, sig };
}

/** Exact-keys check: every required field present, nothing else. */
export function fieldsProblem(body: Record<string, unknown>, fields: readonly string[]): string | undefined {
  const keys = Object.keys(body);
  for (const k of keys) if (!fields.includes(k)) return `unknown field ${k}`;
  for (const f of fields) if (!(f in body)) return `missing field ${f}`;
  return undefined;
}
