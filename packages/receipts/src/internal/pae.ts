// Decode a receipt envelope's base64url payload straight into its pre-authentication encoding
// (docs/spec/envelope.md §3): PAE(type, payload) = "HELMSIG1" SP LEN(type) SP type SP LEN(payload)
// SP payload. One buffer holds the PAE, and the payload bytes are a view of its tail, instead of a
// decoded payload plus a second buffer with a copy of it (the verifier needs both). Same bytes as
// `preAuthEncoding(type, fromBase64Url(text))` from @helm/crypto, and the same strictness: only the
// canonical base64url spelling of the payload (what `toBase64Url` produces) is accepted.

import { base64UrlDecodedLength, base64UrlPrecheck, preAuthHeader } from '@helm/crypto';

export interface DecodedPayload {
  /** PAE(type, payload): the exact bytes the signature covers. */
  readonly pae: Uint8Array;
  /** The payload bytes (a view of the tail of `pae`). */
  readonly payload: Uint8Array;
  /** The whole allocation: the PAE bytes, then `spare` bytes of uninitialised scratch space. */
  readonly bytes: Uint8Array;
  /** Offset of the payload in `pae` and `bytes` (the PAE header length). */
  readonly payloadOffset: number;
}

/** Envelope types are always ASCII; the header is then one byte per character. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * PAE header and payload of a canonical base64url `payloadText`, or undefined when `payloadText` is
 * not exactly the unpadded base64url of some bytes (padding, `+` `/`, foreign characters, length
 * ≡ 1 mod 4, non-zero trailing bits). `type` must be ASCII (undefined otherwise). `spare` extra
 * bytes come from the same allocation, for the caller's own scratch use.
 */
export function decodePayloadPae(type: string, payloadText: string, spare = 0): DecodedPayload | undefined {
  if (!isAscii(type)) return undefined;
  // Node's decoder is lenient (accepts `+` `/`, skips padding and foreign characters): the
  // precheck rules out `+` `/` `=`, bad lengths and non-zero trailing bits, and any foreign
  // character shortens the decoding, so "the payload was filled exactly" below completes the strict
  // rule (the same as fromBase64Url of @helm/crypto).
  if (!base64UrlPrecheck(payloadText)) return undefined;
  // The longest decoding of the base64 text; canonical input decodes to exactly this many bytes.
  const n = base64UrlDecodedLength(payloadText);
  const head = preAuthHeader(type, n); // ASCII: one byte per character
  // every PAE byte is written below (or the input is rejected); `spare` is the caller's to fill
  const buf = Buffer.allocUnsafe(head.length + n + Math.max(0, spare));
  buf.write(head, 0, 'latin1');
  if (buf.write(payloadText, head.length, 'base64url') !== n) return undefined;
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const pae = spare > 0 ? bytes.subarray(0, head.length + n) : bytes;
  return { pae, payload: pae.subarray(head.length), bytes, payloadOffset: head.length };
}
