// The platform primitives of the browser build (the `browser` target of `#platform` in
// package.json "imports"): no node built-ins and no Buffer. SHA-256 is @noble/hashes, byte
// encodings are written out here. The Node build never loads this file; the browser build is
// checked against the spec vectors in a real browser (apps/console/test/browser-vectors.test.ts)
// and against the Node build in Node (test/platform-web.test.ts).
import { sha256 } from '@noble/hashes/sha2.js';
export function sha256Raw(data: Uint8Array): Uint8Array {
  return sha256(data);
}

const utf8 = new TextEncoder();

export function sha256HexOf(data: Uint8Array | string): string {
  return encodeHex(sha256(typeof data === 'string' ? utf8.encode(data) : data));
}

const HEX_DIGITS = '0123456789abcdef';

export function encodeHex(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i] as number;
    out += (HEX_DIGITS[v >> 4] as string) + (HEX_DIGITS[v & 15] as string);
  }
  return out;
}

export function decodeHexChecked(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function encode(b: Uint8Array): string {
  const at = (i: number) => URL_SAFE[i] as string;
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
    out += at(n >> 18) + at((n >> 12) & 63) + at((n >> 6) & 63) + at(n & 63);
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = (b[i] as number) << 16;
    out += at(n >> 18) + at((n >> 12) & 63);
  } else if (rest === 2) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8);
    out += at(n >> 18) + at((n >> 12) & 63) + at((n >> 6) & 63);
  }
  return out;
}

/**
 * Decode like Node's lenient decoder for the inputs the caller passes after its own strict checks:
 * characters outside the alphabet are skipped and decoding stops at `=`; the caller then compares
 * the decoded length, so a skipped character is always a refusal.
 */
function decode(text: string): Uint8Array {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    if (ch === '=') break;
    const v = URL_SAFE.indexOf(ch);
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

export const encodeBase64Url = (b: Uint8Array): string => encode(b);
/** Decodes leniently into `target` from `offset`, as far as it has room; the number of bytes written. */
export function decodeBase64UrlInto(text: string, target: Uint8Array, offset: number): number {
  const bytes = decode(text).subarray(0, Math.max(0, target.length - offset));
  target.set(bytes, offset);
  return bytes.length;
}
