// The published vectors (docs/spec/receipt.md) are regenerated from their inputs and must match
// byte for byte; the spec page must contain every published value.
import { readFileSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import { createSigner } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { ReceiptChain, type ReceiptInput, verifyReceiptChain } from '../src/index.ts';

interface Vector {
  input: ReceiptInput;
  payload_hex: string;
  signature_hex: string;
  receipt_id: string;
  receipt_hash: string;
  envelope: SignedEnvelope;
}
const V = JSON.parse(readFileSync(new URL('./vectors/receipt.v1.json', import.meta.url), 'utf8')) as {
  seed_hex: string;
  public_key_hex: string;
  keyid: string;
  chain_id: string;
  receipts: Vector[];
};
const spec = readFileSync(new URL('../../../docs/spec/receipt.md', import.meta.url), 'utf8');

describe('receipt.v1 vectors', () => {
  const signer = createSigner(new Uint8Array(Buffer.from(V.seed_hex, 'hex')));

  it('the published key is the 32 × 0x02 seed key', () => {
    expect(V.seed_hex).toBe('02'.repeat(32));
    expect(Buffer.from(signer.publicKey).toString('hex')).toBe(V.public_key_hex);
    expect(signer.keyId).toBe(V.keyid);
  });

  it('minting the inputs reproduces every byte, and the spec page publishes them', () => {
    const chain = new ReceiptChain({ signer, chainId: V.chain_id });
    for (const v of V.receipts) {
      const r = chain.mint(v.input);
      expect(Buffer.from(r.envelope.payload, 'base64url').toString('hex')).toBe(v.payload_hex);
      expect(
        Buffer.from((r.envelope.signatures[0] as { sig: string }).sig, 'base64url').toString('hex'),
      ).toBe(v.signature_hex);
      expect(r.body.receipt_id).toBe(v.receipt_id);
      expect(r.hash).toBe(v.receipt_hash);
      expect(r.envelope).toStrictEqual(v.envelope);
      for (const value of [v.payload_hex, v.signature_hex, v.receipt_id, v.receipt_hash])
        expect(spec).toContain(value);
    }
  });

  it('the vector chain verifies offline with only the public key', () => {
    const key = new Uint8Array(Buffer.from(V.public_key_hex, 'hex'));
    const res = verifyReceiptChain(
      V.receipts.map((v) => v.envelope),
      { keys: (k) => (k === V.keyid ? key : undefined) },
    );
    expect(res).toMatchObject({
      ok: true,
      count: 2,
      head: { lamport: 2, hash: V.receipts[1]?.receipt_hash },
    });
  });
});
