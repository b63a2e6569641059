/** Prefix of every envelope type string, e.g. `helm.receipt.v1`. */
export const ENVELOPE_TYPE_PREFIX = 'helm.';

export interface EnvelopeSignature {
  /** Key id of the signer (see docs/spec/signatures.md). */
  readonly keyid: string;
  /** Ed25519 signature, base64url without padding. */
  readonly sig: string;
}

export interface SignedEnvelope {
  /** Envelope type / domain separator, e.g. `helm.receipt.v1`. */
  readonly type: string;
  /** base64url (no padding) of the JCS bytes of the typed body. */
  readonly payload: string;
  readonly signatures: readonly EnvelopeSignature[];
}
