/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url decode: accepts exactly the strings `toBase64Url` produces — no padding, no
 * foreign characters (not even the `+` `/` of the standard alphabet, which Node's decoder takes
 * silently), no length ≡ 1 (mod 4), no non-zero trailing bits. Checked by decoding leniently and
 * requiring the canonical re-encoding to equal the input: the encoder only ever emits unpadded
 * base64url with zero trailing bits, and it is injective, so equality holds exactly for canonical
 * input (and the decoded bytes are then its unique preimage). Both directions run natively: about
 * 3× cheaper than a regex alphabet scan plus decode for a ~1 KB payload.
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const buf = Buffer.from(text, 'base64url');
  if (buf.toString('base64url') !== text) return undefined;
  // Small results (signatures, keys) are copied into an on-heap array (cheap, retains nothing).
  // Larger ones are returned as a plain Uint8Array view of the decoded bytes: copying them into a
  // fresh off-heap ArrayBuffer cost ~1–3 µs per payload (most of the old decode time). The view
  // owns its byte range (it may share an ArrayBuffer with other Buffer-pool slices: use
  // byteOffset/byteLength, never `.buffer` alone).
  if (buf.length <= 64) return new Uint8Array(buf);
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
