// The two node-identity rules of docs/spec/node.md, in one place:
//   §Node hash (signed `helm.node.v1` nodes; checkpoints use the same rule, docs/spec/checkpoint.md):
//     digest(JCS({type, payload, signatures: [{keyid, sig}]})) — the canonical signed envelope;
//   §Receipt nodes (`helm.receipt.v1`): the receipt hash, digest(raw signature)
//     (docs/spec/receipt.md §Receipt hash, defined once as soleSignatureDigest in @helm/crypto).
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { RECEIPT_TYPE } from '@helm/contracts/receipt';
import { canonicalDigest, soleSignatureDigest } from '@helm/crypto/digests';

/** Node / checkpoint hash: `sha256:<hex>` of the canonical envelope (exactly its three members). */
export function envelopeHash(envelope: SignedEnvelope): string {
  return canonicalDigest({
    type: envelope.type,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
  });
}

/** The hash a graph item is referred to by: the receipt hash for receipts, else the envelope hash. */
export function nodeHashOf(envelope: SignedEnvelope): string | undefined {
  return envelope.type === RECEIPT_TYPE ? soleSignatureDigest(envelope) : envelopeHash(envelope);
}
