// openEnvelope is the strict decoder of verifiers whose key depends on signed fields. It must
// accept exactly the envelopes verifyEnvelope accepts (apart from the signature, which it leaves to
// the caller) and hand back the exact bytes the signature covers.
import type { SignedEnvelope } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  createSigner,
  fromBase64Url,
  openEnvelope,
  preAuthEncoding,
  signEnvelope,
  toBase64Url,
  verifyEd25519,
} from '../src/index.ts';
import { verifyBoth } from './verify-both.ts';

const TYPE = 'helm.test.v1';
const alice = createSigner(new Uint8Array(32).fill(1));
const bob = createSigner(new Uint8Array(32).fill(2));
const lookup = (id: string) => [alice, bob].find((s) => s.keyId === id)?.publicKey;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof CryptoError ? error.code : 'OTHER';
  }
}

function overText(text: string, type = TYPE): SignedEnvelope {
  const payload = new TextEncoder().encode(text);
  const sig = alice.sign(preAuthEncoding(type, payload));
  return { type, payload: toBase64Url(payload), signatures: [{ keyid: alice.keyId, sig: toBase64Url(sig) }] };
}

describe('openEnvelope', () => {
  it('returns the parsed body, the exact payload, its PAE and the decoded signatures', () => {
    const env = signEnvelope({ type: TYPE, a: [1, 'x'], b: null }, [alice, bob]);
    const opened = openEnvelope(env, TYPE);
    expect(opened.body).toEqual({ type: TYPE, a: [1, 'x'], b: null });
    expect(opened.payload).toEqual(fromBase64Url(env.payload));
    expect(opened.pae).toEqual(preAuthEncoding(TYPE, opened.payload));
    expect(opened.signatures.map((s) => s.keyid)).toEqual([alice.keyId, bob.keyId]);
    for (const s of opened.signatures)
      expect(verifyEd25519(lookup(s.keyid) as Uint8Array, opened.pae, s.sig).ok).toBe(true);
  });

  it('does not authenticate: a bad signature opens, and only the caller check fails', () => {
    const env = signEnvelope({ type: TYPE, n: 1 }, [alice]);
    const forged = { ...env, signatures: [{ keyid: alice.keyId, sig: toBase64Url(new Uint8Array(64)) }] };
    const opened = openEnvelope(forged, TYPE);
    expect(verifyEd25519(alice.publicKey, opened.pae, opened.signatures[0]?.sig as Uint8Array).ok).toBe(
      false,
    );
  });

  it('rejects, for validly signed envelopes, everything verifyEnvelope rejects', () => {
    const cases: SignedEnvelope[] = [
      overText('{"n":1,"type":"helm.test.v1"} '),
      overText('{"type":"helm.test.v1","n":1}'),
      overText('{"n":1,"n":1,"type":"helm.test.v1"}'),
      overText('{"n":"\\ud800","type":"helm.test.v1"}'),
      overText('{"n":1.0,"type":"helm.test.v1"}'),
      overText('{"n":1,"type":"helm.other.v1"}'),
      overText('[1]'),
      overText('\ufeff{"n":1,"type":"helm.test.v1"}'),
      { ...overText('{"n":1,"type":"helm.test.v1"}'), extra: 1 } as SignedEnvelope,
      { ...overText('{"n":1,"type":"helm.test.v1"}'), signatures: [] },
      overText('{"n":1,"type":"helm.test.v1"}', 'helm.other.v1'),
    ];
    for (const env of cases) {
      const ours = code(() => openEnvelope(env, TYPE));
      expect(ours, env.payload).toBeDefined();
      expect(ours).toBe(code(() => verifyBoth(env, TYPE, lookup)));
    }
  });

  it('applies the size and depth limits and maxSignatures', () => {
    const env = signEnvelope({ type: TYPE, s: 'x'.repeat(100) }, [alice, bob]);
    expect(code(() => openEnvelope(env, TYPE, { limits: { maxBytes: 50 } }))).toBe('JSON_TOO_LARGE');
    expect(code(() => openEnvelope(env, TYPE, { maxSignatures: 1 }))).toBe('ENVELOPE_MALFORMED');
    const deep = signEnvelope({ type: TYPE, d: [[[[1]]]] }, [alice]);
    expect(code(() => openEnvelope(deep, TYPE, { limits: { maxDepth: 3 } }))).toBe('JSON_TOO_DEEP');
    expect(code(() => openEnvelope(deep, TYPE, { limits: { maxDepth: 5 } }))).toBeUndefined();
  });
});
