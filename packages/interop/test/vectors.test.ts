// The key-format values of docs/spec/signatures.md's vector (spki_der_hex, pkcs8_der_hex,
// jwk_public_json), regenerated and compared with the page, and strictness edges of the DER and
// PEM readers that the round-trip tests do not reach.
import { readFileSync } from 'node:fs';
import { CryptoError, createSigner, keyPairFromSeed, toHex } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  exportPrivateKeyPkcs8,
  exportPublicKeyJwk,
  exportPublicKeyPem,
  exportPublicKeySpki,
  importPrivateKeyPkcs8,
  importPublicKeyPem,
  importPublicKeySpki,
} from '../src/index.ts';

function vectorOf(page: string): Record<string, string> {
  const text = readFileSync(new URL(`../../../docs/spec/${page}`, import.meta.url), 'utf8');
  const out: Record<string, string> = {};
  for (const block of text.matchAll(/```vector\n([\s\S]*?)```/g))
    for (const line of (block[1] as string).split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
    }
  return out;
}

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

describe('docs/spec/signatures.md vector: key formats', () => {
  it('regenerates byte for byte', () => {
    const v = vectorOf('signatures.md');
    const signer = createSigner(seed);
    expect(v.seed_hex).toBe(toHex(seed));
    expect(v.spki_der_hex).toBe(toHex(exportPublicKeySpki(signer.publicKey)));
    expect(v.pkcs8_der_hex).toBe(toHex(exportPrivateKeyPkcs8(seed)));
    expect(v.jwk_public_json).toBe(JSON.stringify(exportPublicKeyJwk(signer.publicKey)));
  });
});

describe('strict DER and PEM', () => {
  const spki = exportPublicKeySpki(keyPairFromSeed(seed).publicKey);

  it('refuses non-minimal long-form lengths', () => {
    // 30 2a … as 30 81 2a … (one length byte below 0x80) and 30 82 00 2a … (two bytes below 0x100)
    const long1 = Uint8Array.from([0x30, 0x81, ...spki.subarray(1)]);
    const long2 = Uint8Array.from([0x30, 0x82, 0x00, ...spki.subarray(1)]);
    expect(code(() => importPublicKeySpki(long1))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeySpki(long2))).toBe('KEY_ENCODING_INVALID');
  });

  it('refuses a PKCS#8 v2 public key that is not [1] with 32 bytes and 0 unused bits', () => {
    const v1 = exportPrivateKeyPkcs8(seed);
    const pub = keyPairFromSeed(seed).publicKey;
    const v2 = (tag: number, unused: number) => {
      const body = [0x02, 0x01, 0x01, ...v1.subarray(5), tag, 0x21, unused, ...pub];
      return Uint8Array.from([0x30, body.length, ...body]);
    };
    expect(importPrivateKeyPkcs8(v2(0x81, 0))).toEqual(seed);
    expect(code(() => importPrivateKeyPkcs8(v2(0x80, 0)))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPrivateKeyPkcs8(v2(0x81, 1)))).toBe('KEY_ENCODING_INVALID');
  });

  it('refuses a PEM body with non-zero trailing bits or misplaced padding', () => {
    const pem = exportPublicKeyPem(keyPairFromSeed(seed).publicKey);
    const body = pem.split('\n')[1] as string; // 44 bytes: 59 characters and one "="
    const wrap = (b: string) => `-----BEGIN PUBLIC KEY-----\n${b}\n-----END PUBLIC KEY-----\n`;
    expect(body).toMatch(/^[A-Za-z0-9+/]{59}=$/);
    expect(importPublicKeyPem(wrap(body))).toEqual(keyPairFromSeed(seed).publicKey);
    // the last character before "=" carries 4 data bits and 2 zero bits: set the low one
    const last = body.at(-2) as string;
    const bumped = `${body.slice(0, -2)}${ALPHABET[ALPHABET.indexOf(last) | 1]}=`;
    expect(bumped).not.toBe(body);
    expect(code(() => importPublicKeyPem(wrap(bumped)))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyPem(wrap(`${body.slice(0, -1)}`)))).toBe('KEY_ENCODING_INVALID');
    expect(code(() => importPublicKeyPem(wrap(`${body.slice(0, -4)}====`)))).toBe('KEY_ENCODING_INVALID');
  });

  it('decodes a PEM body exactly as the previous rule did (lenient base64 + canonical re-encoding), under one-character edits', () => {
    const pem = exportPublicKeyPem(keyPairFromSeed(seed).publicKey);
    const body = pem.split('\n')[1] as string;
    const wrap = (b: string) => `-----BEGIN PUBLIC KEY-----\n${b}\n-----END PUBLIC KEY-----\n`;
    let accepted = 0;
    // the DER header (16 characters) and the tail with the padding; edits inside the key only cost
    // curve decodings
    const positions = [...Array(16).keys(), ...[5, 4, 3, 2, 1].map((k) => body.length - k)];
    for (const i of positions) {
      for (const ch of `${ALPHABET}=`) {
        const edited = body.slice(0, i) + ch + body.slice(i + 1);
        const der = new Uint8Array(Buffer.from(edited, 'base64'));
        const previous =
          /^[A-Za-z0-9+/]*={0,2}$/.test(edited) && Buffer.from(der).toString('base64') === edited;
        const expected = previous ? code(() => importPublicKeySpki(der)) : 'KEY_ENCODING_INVALID';
        expect(
          code(() => importPublicKeyPem(wrap(edited))),
          edited,
        ).toBe(expected);
        if (expected === undefined) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
