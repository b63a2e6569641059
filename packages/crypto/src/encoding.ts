// Buffer in Node, written-out codecs in a browser (package.json "imports" `#platform`).
import { decodeBase64UrlLenient, decodeHexChecked, encodeBase64Url, encodeHex } from '#platform';

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return encodeBase64Url(bytes);
}

/** Value of each base64url character (the low bits of the last one must be zero), or -1. */
const B64URL_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * The character-level half of the strict base64url rule (see fromBase64Url): a string, length ≢ 1
 * (mod 4), no `+` `/` `=`, and a last character of the alphabet whose unused bits are zero.
 */
function base64UrlPrecheck(text: string): boolean {
  if (typeof text !== 'string') return false;
  const n = text.length;
  const rem = n & 3;
  if (rem === 1) return false;
  if (n > 0) {
    const last = text.charCodeAt(n - 1);
    const value = last < 128 ? (B64URL_VALUE[last] as number) : -1;
    // 2 chars carry 1 byte (4 unused bits), 3 chars carry 2 bytes (2 unused bits)
    if (value < 0 || (rem === 2 && (value & 0x0f) !== 0) || (rem === 3 && (value & 0x03) !== 0)) return false;
  }
  return !(text.includes('+') || text.includes('/') || text.includes('='));
}

/** floor(6n / 8): the byte length of the canonical base64url string of n characters. */
function base64UrlDecodedLength(text: string): number {
  return Math.floor((text.length * 6) / 8);
}

/**
 * Strict base64url decode: accepts exactly the strings `toBase64Url` produces — no padding, no
 * foreign characters (not even the `+` `/` of the standard alphabet, which Node's decoder takes
 * silently), no length ≡ 1 (mod 4), no non-zero trailing bits. Node's decoder drops every
 * character outside both alphabets (and stops at `=`), and for a length n ≢ 1 (mod 4) dropping any
 * character lowers floor(6n / 8); so "decoded length = floor(6n / 8), no `+` `/` `=`, last
 * character in the alphabet with zero unused bits" holds exactly for canonical input.
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!base64UrlPrecheck(text)) return undefined;
  // A fresh array that owns its ArrayBuffer (never a view into Node's shared pool).
  const buf = decodeBase64UrlLenient(text);
  if (buf.length !== base64UrlDecodedLength(text)) return undefined;
  return buf;
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
