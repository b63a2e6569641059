// The one signed-envelope format of HELM (normative: docs/spec/envelope.md).
// `payload` carries the exact RFC 8785 JCS bytes of the body (base64url, no padding); the body
// itself contains `type`, which is also the signature's domain separator. Verifiers check the
// signature over those exact bytes and never re-serialize a parsed object to verify.

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
