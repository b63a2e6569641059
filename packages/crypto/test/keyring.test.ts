// The key ring and the raw public-key import (docs/spec/signatures.md §5, raw row): the seam between
// signature checking and trust decisions. The other key formats are @helm/interop's.
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  canonicalBytes,
  createKeyRing,
  createSigner,
  fromHex,
  importPublicKeyRaw,
  keyIdFor,
  keyPairFromSeed,
  nobleBackend,
  preAuthEncoding,
  signEnvelope,
  toBase64Url,
  verifyEnvelope,
} from '../src/index.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('raw public keys', () => {
  it('imports a valid key as a copy and refuses wrong lengths and invalid keys', () => {
    const pair = keyPairFromSeed(new Uint8Array(32).fill(1));
    const raw = importPublicKeyRaw(pair.publicKey);
    expect(raw).toEqual(pair.publicKey);
    expect(raw).not.toBe(pair.publicKey);
    const identity = fromHex(`01${'00'.repeat(31)}`) as Uint8Array;
    expect(code(() => importPublicKeyRaw(identity))).toBe('KEY_INVALID');
    expect(code(() => importPublicKeyRaw(new Uint8Array(31)))).toBe('KEY_ENCODING_INVALID');
  });
});

describe('key ring', () => {
  const a = createSigner(new Uint8Array(32).fill(1));
  const b = createSigner(new Uint8Array(32).fill(2), nobleBackend);
  const ring = createKeyRing([a.publicKey, b.publicKey]);

  it('indexes keys by keyIdFor and returns copies', () => {
    expect(ring.keyIds()).toEqual([a.keyId, b.keyId]);
    const key = ring.lookup(a.keyId) as Uint8Array;
    expect(key).toEqual(a.publicKey);
    key.fill(0);
    expect(ring.lookup(a.keyId)).toEqual(a.publicKey);
    expect(ring.lookup('ed25519:unknown')).toBeUndefined();
    expect(keyIdFor(b.publicKey)).toBe(b.keyId);
  });

  it('resolves envelope signers by key id, with either backend', () => {
    const env = signEnvelope({ type: 'helm.ring.v1' }, [a, b]);
    for (const backend of [undefined, nobleBackend]) {
      expect(verifyEnvelope(env, 'helm.ring.v1', ring, { backend })).toMatchObject({
        ok: true,
        keyIds: [a.keyId, b.keyId],
      });
    }
    const stranger = createSigner(new Uint8Array(32).fill(3));
    expect(
      verifyEnvelope(signEnvelope({ type: 'helm.ring.v1' }, [stranger]), 'helm.ring.v1', ring),
    ).toMatchObject({
      ok: false,
      code: 'ENVELOPE_KEY_UNKNOWN',
    });
  });

  it('a lying ring (key id that does not name the returned key) verifies nothing', () => {
    const liar = { lookup: () => a.publicKey, keyIds: () => [b.keyId] };
    const payload = canonicalBytes({ type: 'helm.ring.v1' });
    const forged = {
      type: 'helm.ring.v1',
      payload: toBase64Url(payload),
      signatures: [{ keyid: b.keyId, sig: toBase64Url(a.sign(preAuthEncoding('helm.ring.v1', payload))) }],
    };
    expect(verifyEnvelope(forged, 'helm.ring.v1', liar)).toMatchObject({
      ok: false,
      code: 'ENVELOPE_KEY_UNKNOWN',
    });
  });

  it('rejects duplicate and invalid keys', () => {
    expect(code(() => createKeyRing([a.publicKey, a.publicKey]))).toBe('KEY_INVALID');
    expect(code(() => createKeyRing([new Uint8Array(32)]))).toBe('KEY_INVALID');
  });
});
