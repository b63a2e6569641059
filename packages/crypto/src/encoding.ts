// Buffer in Node, written-out codecs in a browser (package.json "imports" `#platform`).
import { decodeHexChecked, encodeBase64Url, encodeHex } from '#platform';
import { base64UrlDecodedLength, fromBase64UrlInto } from './internal/base64url.js';

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return encodeBase64Url(bytes);
}

/**
 * Strict base64url decode: accepts exactly the strings `toBase64Url` produces — no padding, no
 * foreign characters (not even the `+` `/` of the standard alphabet, which Node's decoder takes
 * silently), no length ≡ 1 (mod 4), no non-zero trailing bits (the rule: internal/base64url.ts).
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  // A fresh array that owns its ArrayBuffer (never a view into Node's shared pool).
  const out = new Uint8Array(base64UrlDecodedLength(text));
  return fromBase64UrlInto(text, out, 0) ? out : undefined;
}

export function toHex(bytes: Uint8Array): string {
  return encodeHex(bytes);
}

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Strict lowercase-hex decode. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX.test(text)) return undefined;
  return decodeHexChecked(text);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
