// The one signed-envelope format of HELM (normative: docs/spec/envelope.md).
// `payload` carries the exact RFC 8785 JCS bytes of the body (base64url, no padding); the body
// itself contains `type`, which is also the signature's domain separator. Verifiers check the
// signature over those exact bytes and never re-serialize a parsed object to verify.

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

/** Envelope type strings: `helm.` + dotted lowercase segments + `.v<N>` (at most 128 bytes). */
export const ENVELOPE_TYPE_PATTERN_SOURCE = '^helm\\.[a-z0-9_]+(\\.[a-z0-9_]+)*\\.v[0-9]+$';
/** Key ids: `ed25519:` + lowercase hex SHA-256 of the raw public key (docs/spec/signatures.md). */
export const KEY_ID_PATTERN_SOURCE = '^ed25519:[0-9a-f]{64}$';
/** Unpadded base64url (RFC 4648 §5). */
export const BASE64URL_PATTERN_SOURCE = '^[A-Za-z0-9_-]*$';
/** Upper bound on signatures per envelope. */
export const MAX_ENVELOPE_SIGNATURES = 32;

/**
 * JSON Schema of the envelope wrapper (structure only: signatures and the payload's canonical
 * form are checked by `verifyEnvelope` in @helm/crypto, never by a schema).
 */
export const SignedEnvelopeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.envelope.v1.json',
  title: 'SignedEnvelope',
  description: 'The one signed-envelope format of HELM (docs/spec/envelope.md).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'payload', 'signatures'],
  properties: {
    type: { type: 'string', pattern: ENVELOPE_TYPE_PATTERN_SOURCE, maxLength: 128 },
    payload: { type: 'string', pattern: BASE64URL_PATTERN_SOURCE, minLength: 2 },
    signatures: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ENVELOPE_SIGNATURES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['keyid', 'sig'],
        properties: {
          keyid: { type: 'string', pattern: KEY_ID_PATTERN_SOURCE },
          sig: { type: 'string', pattern: BASE64URL_PATTERN_SOURCE, minLength: 86, maxLength: 86 },
        },
      },
    },
  },
} as const;
