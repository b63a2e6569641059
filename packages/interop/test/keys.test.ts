import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CryptoError,
  fromHex,
  importPublicKeyRaw,
  isValidPublicKey,
  keyPairFromSeed,
  toBase64Url,
  toHex,
} from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  exportPrivateKeyJwk,
  exportPrivateKeyPem,
  exportPrivateKeyPkcs8,
  exportPublicKeyJwk,
  exportPublicKeyPem,
  exportPublicKeySpki,
  importPrivateKeyJwk,
  importPrivateKeyPem,
  importPrivateKeyPkcs8,
  importPublicKeyJwk,
  importPublicKeyPem,
  importPublicKeySpki,
} from '../src/index.ts';

const ED = new URL('../../../../shared/testdata/ed25519/', import.meta.url);
const wycheproof = JSON.parse(readFileSync(new URL('wycheproof_ed25519_test.json', ED), 'utf8')) as {
  testGroups: {
    publicKey: { pk: string };
    publicKeyDer: string;
    publicKeyPem: string;
    publicKeyJwk: Record<string, string>;
  }[];
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

const seed = new Uint8Array(32).fill(1);
const pair = keyPairFromSeed(seed);

describe('key formats', () => {
  it('round-trips raw, SPKI, PKCS#8, PEM and JWK', () => {
    expect(importPublicKeyRaw(pair.publicKey)).toEqual(pair.publicKey);
    expect(importPublicKeySpki(exportPublicKeySpki(pair.publicKey))).toEqual(pair.publicKey);
    expect(importPublicKeyPem(exportPublicKeyPem(pair.publicKey))).toEqual(pair.publicKey);
    expect(importPrivateKeyPkcs8(exportPrivateKeyPkcs8(seed))).toEqual(seed);
    expect(importPrivateKeyPem(exportPrivateKeyPem(seed))).toEqual(seed);
    expect(importPublicKeyJwk(exportPublicKeyJwk(pair.publicKey))).toEqual(pair.publicKey);
    expect(importPrivateKeyJwk(exportPrivateKeyJwk(seed))).toEqual(seed);
  });

  it('produces exactly what OpenSSL produces and reads what OpenSSL writes', () => {
    const priv = createPrivateKey({
      key: Buffer.from(exportPrivateKeyPkcs8(seed)),
      format: 'der',
      type: 'pkcs8',
    });
    const pub = createPublicKey(priv);
    expect(toHex(exportPublicKeySpki(pair.publicKey))).toBe(
      pub.export({ format: 'der', type: 'spki' }).toString('hex'),
    );
    expect(exportPublicKeyPem(pair.publicKey)).toBe(pub.export({ format: 'pem', type: 'spki' }));
    expect(exportPrivateKeyPem(seed)).toBe(priv.export({ format: 'pem', type: 'pkcs8' }));
    const jwk = pub.export({ format: 'jwk' });
    expect(exportPublicKeyJwk(pair.publicKey)).toEqual({ ...jwk, kid: pair.keyId });
    expect(exportPrivateKeyJwk(seed)).toEqual({ ...priv.export({ format: 'jwk' }), kid: pair.keyId });
  });

  it('imports every Wycheproof group key from DER, PEM and JWK consistently', () => {
    for (const g of wycheproof.testGroups) {
      const raw = fromHex(g.publicKey.pk) as Uint8Array;
      if (!isValidPublicKey(raw)) {
        expect(code(() => importPublicKeySpki(fromHex(g.publicKeyDer) as Uint8Array))).toBe('KEY_INVALID');
        continue;
      }
      expect(importPublicKeySpki(fromHex(g.publicKeyDer) as Uint8Array)).toEqual(raw);
      expect(importPublicKeyPem(g.publicKeyPem)).toEqual(raw);
      expect(importPublicKeyJwk(g.publicKeyJwk)).toEqual(raw);
    }
  });

  it('accepts PKCS#8 v2 with a matching public key and rejects a mismatching one', () => {
    const v1 = exportPrivateKeyPkcs8(seed);
    const body = v1.subarray(2); // strip SEQUENCE header (length < 128)
    const withPub = (pk: Uint8Array) => {
      const inner = new Uint8Array([...body, 0x81, 0x21, 0x00, ...pk]);
      inner[2] = 1; // version 1 (v2)
      return new Uint8Array([0x30, inner.length, ...inner]);
    };
    expect(importPrivateKeyPkcs8(withPub(pair.publicKey))).toEqual(seed);
    const other = keyPairFromSeed(new Uint8Array(32).fill(2)).publicKey;
    expect(code(() => importPrivateKeyPkcs8(withPub(other)))).toBe('KEY_INVALID');
    const v1WithPub = withPub(pair.publicKey);
    v1WithPub[4] = 0; // version 0 cannot carry a public key
    expect(code(() => importPrivateKeyPkcs8(v1WithPub))).toBe('KEY_ENCODING_INVALID');
  });

  it('rejects malformed DER strictly', () => {
    const spki = exportPublicKeySpki(pair.publicKey);
    const pkcs8 = exportPrivateKeyPkcs8(seed);
    const mutate = (bytes: Uint8Array, at: number, value: number) => {
      const copy = Uint8Array.from(bytes);
      copy[at] = value;
      return copy;
    };
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      spki.subarray(0, spki.length - 1), // truncated
      new Uint8Array([...spki, 0]), // trailing byte
      mutate(spki, 0, 0x31), // SET instead of SEQUENCE
      mutate(spki, 8, 0x71), // other OID (X448 is 1.3.101.113)
      mutate(spki, 11, 1), // unused bits
      mutate(spki, 1, 0x80), // indefinite length
      new Uint8Array([0x30, 0x81, 0x2a, ...spki.subarray(2)]), // non-minimal length
      new Uint8Array([0x1f, 0x01, 0x00]), // multi-byte tag
      new Uint8Array([0x30, 0x83, 0x00, 0x00, 0x2a]), // oversized length of length
      new Uint8Array([0x30, 0x05, 0x30, 0x03, 0x06, 0x01, 0x2b]), // too few fields
    ];
    for (const der of cases)
      expect(
        code(() => importPublicKeySpki(der)),
        toHex(der),
      ).toBe('KEY_ENCODING_INVALID');
    const pkcs8Cases: Uint8Array[] = [
      mutate(pkcs8, 4, 2), // version 2
      mutate(pkcs8, 9, 0x71), // OID
      mutate(pkcs8, 15, 0x1f), // inner octet string length
      mutate(pkcs8, 7, 0x05), // algorithm not a sequence
      exportPublicKeySpki(pair.publicKey),
    ];
    for (const der of pkcs8Cases)
      expect(
        code(() => importPrivateKeyPkcs8(der)),
        toHex(der),
      ).toBe('KEY_ENCODING_INVALID');
  });

  it('rejects malformed PEM', () => {
    const pem = exportPublicKeyPem(pair.publicKey);
    expect(importPublicKeyPem(pem.replace(/\n/g, '\r\n'))).toEqual(pair.publicKey);
    expect(code(() => importPublicKeyPem(pem.replace('PUBLIC KEY-----\n', 'PRIVATE KEY-----\n')))).toBe(
      'KEY_ENCODING_INVALID',
    );
    expect(code(() => importPrivateKeyPem(pem))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyPem(pem.replace('MCowBQYDK2VwAyEA', 'MCowBQYDK2VwAyEA!')))).toBe(
      'KEY_ENCODING_INVALID',
    );
    expect(code(() => importPublicKeyPem(pem.replace(/=*\n-----END/, 'A\n-----END')))).toBe(
      'KEY_ENCODING_INVALID',
    );
    expect(code(() => importPublicKeyPem(pem + pem))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyPem(42 as unknown as string))).toBe('KEY_ENCODING_INVALID');
  });

  it('rejects malformed or inconsistent JWKs', () => {
    const jwk = exportPrivateKeyJwk(seed);
    const other = exportPrivateKeyJwk(new Uint8Array(32).fill(2));
    expect(code(() => importPublicKeyJwk(null))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyJwk([]))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyJwk({ ...jwk, kty: 'EC' }))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyJwk({ ...jwk, crv: 'X25519' }))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyJwk({ ...jwk, alg: 'ES256' }))).toBe('KEY_ENCODING_INVALID');
    expect(importPublicKeyJwk({ ...jwk, alg: 'EdDSA', kid: 'some-other-scheme' })).toEqual(pair.publicKey);
    expect(code(() => importPublicKeyJwk({ ...jwk, x: `${jwk.x}=` }))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyJwk({ ...jwk, x: toBase64Url(new Uint8Array(31)) }))).toBe(
      'KEY_ENCODING_INVALID',
    );
    expect(code(() => importPublicKeyJwk({ ...jwk, kid: other.kid }))).toBe('KEY_INVALID');
    expect(code(() => importPrivateKeyJwk({ ...jwk, d: other.d }))).toBe('KEY_INVALID');
    expect(code(() => importPrivateKeyJwk({ ...jwk, d: undefined }))).toBe('KEY_ENCODING_INVALID');
  });

  it('rejects invalid public keys on import (small order, off-curve, non-canonical)', () => {
    const identity = fromHex(`01${'00'.repeat(31)}`) as Uint8Array;
    expect(code(() => importPublicKeyRaw(identity))).toBe('KEY_INVALID');
    expect(code(() => importPublicKeyRaw(new Uint8Array(31)))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => exportPublicKeySpki(identity))).toBe('KEY_INVALID');
    expect(code(() => exportPrivateKeyPkcs8(new Uint8Array(16)))).toBe('KEY_ENCODING_INVALID');
  });
});
