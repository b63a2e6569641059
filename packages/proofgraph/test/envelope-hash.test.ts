import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { signNode } from '../src/index.ts';
import { envelopeHash } from '../src/internal/envelope-hash.ts';
import { signerA } from './helpers.ts';

describe('envelope hash (node / checkpoint hash rule)', () => {
  it('is digest(JCS(envelope)) over exactly type, payload and {keyid, sig} entries', () => {
    const n = signNode(
      { kind: 'INTENT', parents: [], principal: 'p', payload: 1, issued_at_ms: 0 },
      () => 1,
      signerA,
    );
    expect(envelopeHash(n.envelope)).toBe(digest(canonicalBytes(n.envelope)));
    expect(n.hash).toBe(digest(canonicalBytes(n.envelope)));
    const odd = { type: 'helm.x "y"', payload: 'é\n', signatures: [{ keyid: 'k"', sig: 's' }] };
    expect(envelopeHash(odd)).toBe(digest(canonicalBytes(odd)));
    const extra = { ...odd, note: 1, signatures: [{ keyid: 'a', sig: 'b', alg: 'x' }] };
    expect(envelopeHash(extra)).toBe(
      digest(
        canonicalBytes({ type: odd.type, payload: odd.payload, signatures: [{ keyid: 'a', sig: 'b' }] }),
      ),
    );
  });
});

describe('payload_hash of envelope-shaped payloads', () => {
  const node = (payload: unknown) =>
    signNode({ kind: 'EFFECT', parents: [], principal: 'p', payload, issued_at_ms: 0 }, () => 1, signerA);
  it('equals digest(JCS(payload)) for envelopes, near-envelopes and odd strings alike', () => {
    const payloads: unknown[] = [
      { type: 'helm.receipt.v1', payload: 'abc-_', signatures: [{ keyid: 'ed25519:00', sig: 'AA' }] },
      { type: 'helm.x "y"', payload: 'é\n', signatures: [{ keyid: 'k"', sig: 's' }] },
      { type: 'helm.x', payload: 'p', signatures: [] },
      { type: 'helm.x', payload: 'p', signatures: [{ keyid: 'a', sig: 'b', extra: 1 }] },
      { type: 'helm.x', payload: 'p', signatures: [{ keyid: 'a' }] },
      { type: 'helm.x', payload: 'p', signatures: [{ keyid: 'a', sig: 'b' }], more: true },
      { type: 'helm.x', payload: 7, signatures: [] },
      Object.assign(Object.create(null), { type: 'helm.x', payload: 'p', signatures: [] }),
      [1, 2],
    ];
    for (const p of payloads) {
      expect(node(p).body.payload_hash).toBe(digest(canonicalBytes(p)));
    }
  });
});
