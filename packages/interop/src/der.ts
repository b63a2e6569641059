// The few DER structures Ed25519 keys need (RFC 8410, RFC 5958, RFC 5280), read and written by
// hand: strict definite minimal lengths, no trailing bytes, no indefinite forms.

export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
}

/** Read one TLV at `offset`; returns it and the offset after it, or undefined if malformed. */
export function readTlv(bytes: Uint8Array, offset: number): { tlv: Tlv; next: number } | undefined {
  if (offset + 2 > bytes.length) return undefined;
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags: never used here
  let len = bytes[offset + 1] as number;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || p + n > bytes.length) return undefined; // indefinite or huge
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (bytes[p + i] as number);
    if (len < 0x80 || (n === 2 && len < 0x100)) return undefined; // not minimal
    p += n;
  }
  if (p + len > bytes.length) return undefined;
  return { tlv: { tag, value: bytes.subarray(p, p + len) }, next: p + len };
}

/** Read a sequence of TLVs that exactly fills `bytes`. */
export function readAll(bytes: Uint8Array): Tlv[] | undefined {
  const out: Tlv[] = [];
  let p = 0;
  while (p < bytes.length) {
    const r = readTlv(bytes, p);
    if (!r) return undefined;
    out.push(r.tlv);
    p = r.next;
  }
  return out;
}

export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const len = value.length;
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  out.set(value, head.length);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const TAG_SEQUENCE = 0x30;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
/** [1] IMPLICIT (context-specific, primitive): OneAsymmetricKey.publicKey. */
export const TAG_CONTEXT_1 = 0x81;
/** id-Ed25519 = 1.3.101.112 */
export const OID_ED25519 = Uint8Array.from([0x2b, 0x65, 0x70]);
