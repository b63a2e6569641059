import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { signNode } from '../src/index.ts';
import { envelopeCanonicalBytes } from '../src/internal/envelope-hash.ts';
import { signerA } from './helpers.ts';

describe('envelope canonical bytes (node / checkpoint hash rule)', () => {
  it('fast path equals the general JCS, and non-plain strings fall back to it', () => {
    const n = signNode(
      { kind: 'INTENT', parents: [], principal: 'p', payload: 1, issued_at_ms: 0 },
      () => 1,
      signerA,
    );
    expect(envelopeCanonicalBytes(n.envelope)).toStrictEqual(canonicalBytes(n.envelope));
    const odd = { type: 'helm.x "y"', payload: 'é\n', signatures: [{ keyid: 'k"', sig: 's' }] };
    expect(envelopeCanonicalBytes(odd)).toStrictEqual(canonicalBytes(odd));
    const two = {
      type: 'helm.x',
      payload: 'p',
      signatures: [
        { keyid: 'a', sig: 'b' },
        { keyid: 'c', sig: 'd' },
      ],
    };
    expect(envelopeCanonicalBytes(two)).toStrictEqual(canonicalBytes(two));
    const badSig = { type: 'helm.x', payload: 'p', signatures: [{ keyid: 'a', sig: 'b"' }] };
    expect(envelopeCanonicalBytes(badSig)).toStrictEqual(canonicalBytes(badSig));
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
