// Hash of a signed envelope: digest(canonicalBytes({type, payload, signatures: [{keyid, sig}]})).
// JCS of this fixed shape is built directly when every string is made of characters JSON never
// escapes (base64url, key ids, helm.* types); otherwise the general canonicalizer is used. Tests
// assert both paths produce identical bytes.
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalize, digestText } from '@helm/crypto';

const PLAIN = /^[A-Za-z0-9._:-]*$/;
const encoder = new TextEncoder();

/** The canonical JSON text of `{type, payload, signatures: [{keyid, sig}]}`. */
export function envelopeCanonicalText(envelope: SignedEnvelope): string {
  const { type, payload, signatures } = envelope;
  let fast = PLAIN.test(type) && PLAIN.test(payload);
  let sigs = '';
  for (let i = 0; fast && i < signatures.length; i++) {
    const s = signatures[i] as { keyid: string; sig: string };
    if (!PLAIN.test(s.keyid) || !PLAIN.test(s.sig)) fast = false;
    else sigs += `${i === 0 ? '' : ','}{"keyid":"${s.keyid}","sig":"${s.sig}"}`;
  }
  if (fast) return `{"payload":"${payload}","signatures":[${sigs}],"type":"${type}"}`;
  return canonicalize({
    type,
    payload,
    signatures: signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
  });
}

export function envelopeCanonicalBytes(envelope: SignedEnvelope): Uint8Array {
  return encoder.encode(envelopeCanonicalText(envelope));
}

/** `sha256:<hex>` of the canonical envelope — the receipt hash / node hash / checkpoint hash rule. */
export function envelopeHash(envelope: SignedEnvelope): string {
  // canonical text is well-formed, so hashing the string is hashing its UTF-8 bytes
  return digestText(envelopeCanonicalText(envelope));
}
