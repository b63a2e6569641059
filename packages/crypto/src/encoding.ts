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
  // Decode straight into an owned, exactly sized array (no pooled Buffer, no second copy). After
  // the checks above the decoded length is exactly ⌊3·length/4⌋.
  const out = new Uint8Array((text.length * 3) >>> 2);
  const written = Buffer.from(out.buffer, 0, out.length).write(text, 'base64url');
  return written === out.length ? out : undefined;
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
