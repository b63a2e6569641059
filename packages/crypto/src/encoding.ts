/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The 6-bit value of a base64url character (the caller has checked the alphabet). */
function sextet(c: number): number {
  if (c >= 97) return c - 71; // a-z → 26..51
  if (c >= 65) return c - 65; // A-Z → 0..25
  if (c >= 48) return c + 4; // 0-9 → 52..61
  return c === 45 ? 62 : 63; // '-' → 62, '_' → 63
}

/**
 * Strict base64url decode: rejects padding, foreign characters, a length ≡ 1 (mod 4) and
 * non-zero trailing bits — i.e. accepts exactly the strings `toBase64Url` produces. The canonical
 * form is checked arithmetically (the unused low bits of the last character must be zero: 4 bits
 * when length ≡ 2, 2 bits when length ≡ 3 (mod 4)) instead of by re-encoding.
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  const rem = text.length % 4;
  if (rem === 1 || !BASE64URL.test(text)) return undefined;
  if (rem !== 0 && (sextet(text.charCodeAt(text.length - 1)) & (rem === 2 ? 0x0f : 0x03)) !== 0) {
    return undefined;
  }
  const buf = Buffer.from(text, 'base64url');
  // Small results (signatures, keys) are copied into an on-heap array (cheap, retains nothing).
  // Larger ones are returned as a plain Uint8Array view of the decoded bytes: copying them into a
  // fresh off-heap ArrayBuffer cost ~1–3 µs per payload (most of the old decode time). The view
  // owns its byte range (it may share an ArrayBuffer with other Buffer-pool slices: use
  // byteOffset/byteLength, never `.buffer` alone).
  if (buf.length <= 64) {
    const out = new Uint8Array(buf.length);
    for (let i = 0; i < buf.length; i++) out[i] = buf[i] as number;
    return out;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Strict lowercase-hex decode. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
