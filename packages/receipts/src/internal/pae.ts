// Decode a receipt envelope's base64url payload straight into its pre-authentication encoding
// (docs/spec/envelope.md §3): PAE(type, payload) = "HELMSIG1" SP LEN(type) SP type SP LEN(payload)
// SP payload. One buffer holds the PAE, and the payload bytes are a view of its tail, instead of a
// decoded payload plus a second buffer with a copy of it (the verifier needs both). Same bytes as
// `preAuthEncoding(type, fromBase64Url(text))` from @helm/crypto, and the same strictness: only the
// canonical base64url spelling of the payload (what `toBase64Url` produces) is accepted.

import { base64UrlDecodedLength, base64UrlPrecheck } from '@helm/crypto';

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

/** Byte length of an ASCII type string, or -1 when it is not ASCII (envelope types always are). */
function asciiLength(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return -1;
  return text.length;
}

/**
 * PAE header and payload of a canonical base64url `payloadText`, or undefined when `payloadText` is
 * not exactly the unpadded base64url of some bytes (padding, `+` `/`, foreign characters, length
 * ≡ 1 mod 4, non-zero trailing bits). `type` must be ASCII (undefined otherwise). `spare` extra
 * bytes come from the same allocation, for the caller's own scratch use.
 */
export function decodePayloadPae(type: string, payloadText: string, spare = 0): DecodedPayload | undefined {
  const typeLength = asciiLength(type);
  if (typeLength < 0) return undefined;
  // The longest decoding of n base64 characters; canonical input decodes to exactly this many.
  const n = Math.floor((payloadText.length * 3) / 4);
  const head = `HELMSIG1 ${typeLength} ${type} ${n} `; // ASCII: one byte per character
  // every PAE byte is written below (or the input is rejected); `spare` is the caller's to fill
  const buf = Buffer.allocUnsafe(head.length + n + Math.max(0, spare));
  buf.write(head, 0, 'latin1');
  // Node's decoder is lenient (accepts `+` `/`, skips padding and foreign characters): the
  // precheck rules out `+` `/` `=`, bad lengths and non-zero trailing bits, and any foreign
  // character shortens the decoding, so "the payload was filled exactly" completes the strict rule
  // (the same as fromBase64Url of @helm/crypto).
  if (!base64UrlPrecheck(payloadText) || n !== base64UrlDecodedLength(payloadText)) return undefined;
  if (buf.write(payloadText, head.length, 'base64url') !== n) return undefined;
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const pae = spare > 0 ? bytes.subarray(0, head.length + n) : bytes;
  return { pae, payload: pae.subarray(head.length), bytes, payloadOffset: head.length };
}
