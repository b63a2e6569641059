import { canonicalBytes } from '@helm/crypto';
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
