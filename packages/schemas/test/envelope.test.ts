import { KEY_ID_PATTERN } from '@helm/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { SignedEnvelopeSchema } from '../src/index.ts';

const validate = new Ajv2020({ strict: true }).compile(SignedEnvelopeSchema);
const keyid = `ed25519:${'ab'.repeat(32)}`;
const sig = 'A'.repeat(86);
const envelope = {
  type: 'helm.receipt.v1',
  payload: 'eyJ0eXBlIjoiaGVsbS5yZWNlaXB0LnYxIn0',
  signatures: [{ keyid, sig }],
};

describe('SignedEnvelope schema', () => {
  it('accepts a well-formed envelope', () => {
    expect(validate(envelope)).toBe(true);
    expect(new RegExp(KEY_ID_PATTERN).test(keyid)).toBe(true);
  });

  it.each([
    ['extra envelope field', { ...envelope, body: {} }],
    ['type without version', { ...envelope, type: 'helm.receipt' }],
    ['foreign type', { ...envelope, type: 'in-toto.v1' }],
    ['padded payload', { ...envelope, payload: `${envelope.payload}=` }],
    ['no signatures', { ...envelope, signatures: [] }],
    ['signature with extra field', { ...envelope, signatures: [{ keyid, sig, alg: 'none' }] }],
    ['short signature', { ...envelope, signatures: [{ keyid, sig: 'A'.repeat(85) }] }],
    ['bad key id', { ...envelope, signatures: [{ keyid: 'ed25519:AB', sig }] }],
    ['too many signatures', { ...envelope, signatures: Array.from({ length: 33 }, () => ({ keyid, sig })) }],
  ])('rejects %s', (_label, value) => {
    expect(validate(value)).toBe(false);
  });
});
