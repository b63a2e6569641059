// Nodes and checkpoints are decoded by @helm/crypto's one strict opener: validly signed payloads
// that are not strict, canonical, size-bounded JSON are NODE_MALFORMED / MALFORMED, never parsed
// leniently (duplicate keys, oversized payloads, extra signatures).
import type { SignedEnvelope } from '@helm/contracts';
import { preAuthEncoding, toBase64Url } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { signCheckpoint, signNode, verifyCheckpoint, verifyNode } from '../src/index.ts';
import { keysOf, signerA, signerB } from './helpers.ts';

const keys = keysOf(signerA, signerB);

/** An envelope of `type` over the exact `text`, validly signed by signerA. */
function signedText(type: string, text: string): SignedEnvelope {
  const payload = new TextEncoder().encode(text);
  const sig = signerA.sign(preAuthEncoding(type, payload));
  return {
    type,
    payload: toBase64Url(payload),
    signatures: [{ keyid: signerA.keyId, sig: toBase64Url(sig) }],
  };
}

const node = signNode(
  { kind: 'NOTE', parents: [], principal: 'agent:alice', payload: { n: 1 }, issued_at_ms: 1 },
  () => undefined,
  signerA,
);
const nodeText = Buffer.from(node.envelope.payload, 'base64url').toString('utf8');

describe('verifyNode through the strict opener', () => {
  it('accepts the node re-signed over its own bytes', () => {
    expect(verifyNode(signedText('helm.node.v1', nodeText), keys)).toMatchObject({ ok: true });
  });

  it('rejects a duplicate member even when the last value equals the canonical one', () => {
    const dup = nodeText.replace('"issued_at_ms":1', '"issued_at_ms":1,"issued_at_ms":1');
    expect(verifyNode(signedText('helm.node.v1', dup), keys)).toMatchObject({
      ok: false,
      code: 'NODE_MALFORMED',
    });
  });

  it('rejects a validly signed payload larger than the envelope size limit before parsing it', () => {
    const big = nodeText.replace(
      '"principal":"agent:alice"',
      `"principal":"${'a'.repeat(17 * 1024 * 1024)}"`,
    );
    const r = verifyNode(signedText('helm.node.v1', big), keys);
    expect(r).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
    expect(r.ok ? '' : r.message).toMatch(/size limit/);
  });

  it('rejects a second signature, even a valid one', () => {
    const sig = signerB.sign(
      preAuthEncoding('helm.node.v1', Buffer.from(node.envelope.payload, 'base64url')),
    );
    const two = {
      ...node.envelope,
      signatures: [...node.envelope.signatures, { keyid: signerB.keyId, sig: toBase64Url(sig) }],
    };
    expect(verifyNode(two, keys)).toMatchObject({ ok: false, code: 'NODE_MALFORMED' });
  });
});

describe('verifyCheckpoint through the strict opener', () => {
  const cp = signCheckpoint(
    {
      log_id: 'log-1',
      tree_size: 1,
      root: new Uint8Array(32).fill(7),
      lamport_from: 1,
      lamport_to: 1,
      anchor_required: false,
      issued_at_ms: 5,
    },
    signerA,
  );
  const text = Buffer.from(cp.envelope.payload, 'base64url').toString('utf8');

  it('accepts the checkpoint and rejects a duplicate member or a lone-surrogate escape', () => {
    expect(verifyCheckpoint(signedText('helm.checkpoint.v1', text), keys)).toMatchObject({ ok: true });
    for (const bad of [
      text.replace('"tree_size":1', '"tree_size":1,"tree_size":1'),
      text.replace('"log_id":"log-1"', '"log_id":"log-1\\ud800"'),
    ]) {
      expect(verifyCheckpoint(signedText('helm.checkpoint.v1', bad), keys)).toMatchObject({
        ok: false,
        code: 'MALFORMED',
      });
    }
  });
});
