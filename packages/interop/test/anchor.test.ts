// The hashedrekord entry of a signed checkpoint (docs/spec/checkpoint.md: anchor a checkpoint whose
// `anchor_required` is set in a transparency log): the entry verifies with node:crypto over the
// signed data, and nothing but one verified checkpoint signature is accepted.
import { createPublicKey, verify } from 'node:crypto';
import type { SignedEnvelope } from '@helm/contracts';
import { createSigner, digest, signEnvelope, verifyEd25519 } from '@helm/crypto';
import { TrustError } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import { prepareCheckpointAnchor } from '../src/index.ts';

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

describe('checkpoint anchoring', () => {
  const ckSigner = createSigner(new Uint8Array(32).fill(30));
  const checkpoint = (): SignedEnvelope =>
    signEnvelope(
      {
        type: 'helm.checkpoint.v1',
        log_id: 'chain-1',
        tree_size: 3,
        root_hash: `sha256:${'ab'.repeat(32)}`,
        lamport_from: 1,
        lamport_to: 3,
      },
      [ckSigner],
    );
  const lookup = (id: string) => (id === ckSigner.keyId ? ckSigner.publicKey : undefined);

  it('prepares a hashedrekord-style entry whose signature verifies over the signed data', () => {
    const anchor = prepareCheckpointAnchor(checkpoint(), lookup);
    expect(anchor.body.kind).toBe('hashedrekord');
    expect(anchor.keyid).toBe(ckSigner.keyId);
    expect(anchor.body.spec.data.hash.value).toBe(digest(anchor.signedData).slice(7));
    const pem = Buffer.from(anchor.body.spec.signature.publicKey.content, 'base64').toString();
    // the PEM node:crypto writes for the same SPKI: one 60-character base64 line
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), ckSigner.publicKey]);
    expect(pem).toBe(
      createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }),
    );
    expect(pem).toBe(`-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`);
    const sig = Buffer.from(anchor.body.spec.signature.content, 'base64');
    expect(verify(null, anchor.signedData, createPublicKey(pem), sig)).toBe(true);
    expect(verifyEd25519(ckSigner.publicKey, anchor.signedData, new Uint8Array(sig)).ok).toBe(true);
    expect(anchor.checkpointHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new TextDecoder().decode(anchor.bodyBytes)).toBe(
      JSON.stringify(JSON.parse(new TextDecoder().decode(anchor.bodyBytes))),
    );
    // deterministic
    expect(
      Buffer.from(prepareCheckpointAnchor(checkpoint(), lookup).bodyBytes).equals(
        Buffer.from(anchor.bodyBytes),
      ),
    ).toBe(true);
  });

  it('refuses unsigned, multi-signed, wrongly typed or unverifiable checkpoints', () => {
    const ck = checkpoint();
    expect(thrownCode(() => prepareCheckpointAnchor({ ...ck, signatures: [] }, lookup))).toBe(
      'ANCHOR_INPUT_INVALID',
    );
    expect(
      thrownCode(() =>
        prepareCheckpointAnchor({ ...ck, signatures: [...ck.signatures, ...ck.signatures] }, lookup),
      ),
    ).toBe('ANCHOR_INPUT_INVALID');
    expect(thrownCode(() => prepareCheckpointAnchor(ck, () => undefined))).toBe('ANCHOR_INPUT_INVALID');
    expect(thrownCode(() => prepareCheckpointAnchor({ ...ck, type: 'helm.receipt.v1' }, lookup))).toBe(
      'ANCHOR_INPUT_INVALID',
    );
    const other = signEnvelope({ type: 'helm.checkpoint.v1', log_id: 'x' }, [ckSigner]);
    expect(thrownCode(() => prepareCheckpointAnchor({ ...ck, payload: other.payload }, lookup))).toBe(
      'ANCHOR_INPUT_INVALID',
    );
    expect(() =>
      prepareCheckpointAnchor(ck, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
  });
});
