import {
  BASE64URL_PATTERN,
  ENVELOPE_TYPE_PATTERN,
  KEY_ID_PATTERN,
  MAX_ENVELOPE_SIGNATURES,
  MAX_ENVELOPE_TYPE_LENGTH,
} from '@helm/contracts';

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
    type: { type: 'string', pattern: ENVELOPE_TYPE_PATTERN, maxLength: MAX_ENVELOPE_TYPE_LENGTH },
    payload: { type: 'string', pattern: BASE64URL_PATTERN, minLength: 2 },
    signatures: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ENVELOPE_SIGNATURES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['keyid', 'sig'],
        properties: {
          keyid: { type: 'string', pattern: KEY_ID_PATTERN },
          sig: { type: 'string', pattern: BASE64URL_PATTERN, minLength: 86, maxLength: 86 },
        },
      },
    },
  },
} as const;
