// The strict base64url rule (RFC 4648 §5 without padding, canonical only) behind fromBase64Url
// (encoding.ts) and the envelope openers, which decode a payload straight into its PAE.
import { decodeBase64UrlInto } from '#platform';

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
export function base64UrlDecodedLength(text: string): number {
  return Math.floor((text.length * 6) / 8);
}

/**
 * Strict base64url decode into `target` at `offset`, which must have room for exactly
 * base64UrlDecodedLength(text) bytes from there: false (with `target` partly written) when `text`
 * is not canonical base64url. Node's decoder drops every character outside both alphabets (and
 * stops at `=`), and for a length n ≢ 1 (mod 4) dropping any character lowers floor(6n / 8); so
 * "decoded length = floor(6n / 8), no `+` `/` `=`, last character in the alphabet with zero unused
 * bits" holds exactly for canonical input.
 */
export function fromBase64UrlInto(text: string, target: Uint8Array, offset: number): boolean {
  return (
    base64UrlPrecheck(text) && decodeBase64UrlInto(text, target, offset) === base64UrlDecodedLength(text)
  );
}
