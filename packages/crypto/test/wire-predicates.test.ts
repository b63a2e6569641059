// The digest and key-id predicates apply contracts' one definition of each rule, character by
// character: exactly `prefix` + 64 lowercase hex digits, nothing that merely looks like it.
import { DIGEST_PATTERN, KEY_ID_PATTERN } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import {
  digestBytes,
  digestOfRaw,
  isDigest,
  isKeyId,
  isSafeInt,
  sha256,
  soleSignatureDigest,
} from '../src/index.ts';

const LOWER_HEX = '0123456789abcdef';
const isLowerHex64 = (s: string) => s.length === 64 && [...s].every((c) => LOWER_HEX.includes(c));

describe('isDigest / isKeyId', () => {
  const hex = 'a'.repeat(64);
  const bodies = [
    hex,
    '0123456789abcdef'.repeat(4),
    'A'.repeat(64),
    'g'.repeat(64),
    `${'a'.repeat(63)}F`,
    `${'a'.repeat(63)}/`,
    `${'a'.repeat(63)}:`,
    `${'a'.repeat(63)}\``,
    `${'a'.repeat(63)}\u0660`,
    `${'a'.repeat(63)}\u00e1`, // low 7 bits are 'a'
    `\u0130${'a'.repeat(63)}`,
    `${'a'.repeat(31)}\u0830${'a'.repeat(32)}`,
    'a'.repeat(63),
    'a'.repeat(65),
    `${hex}\n`,
    ` ${hex.slice(1)}`,
  ];
  it('accept exactly prefix + 64 lowercase hex digits', () => {
    for (const prefix of ['sha256:', 'ed25519:', 'SHA256:', 'sha256;', 'ed25519-', '']) {
      for (const body of bodies) {
        const v = prefix + body;
        expect(isDigest(v), v).toBe(prefix === 'sha256:' && isLowerHex64(body));
        expect(isKeyId(v), v).toBe(prefix === 'ed25519:' && isLowerHex64(body));
      }
    }
    for (const v of [null, undefined, 5, {}, ['sha256:' + hex]]) {
      expect(isDigest(v)).toBe(false);
      expect(isKeyId(v)).toBe(false);
    }
  });

  it('are the contracts patterns', () => {
    expect(new RegExp(DIGEST_PATTERN).test(`sha256:${hex}`)).toBe(true);
    expect(new RegExp(KEY_ID_PATTERN).test(`ed25519:${hex}`)).toBe(true);
  });
});

describe('digest text ↔ raw bytes', () => {
  it('round-trips and rejects malformed digests', () => {
    const raw = sha256(new Uint8Array([1, 2, 3]));
    const text = digestOfRaw(raw);
    expect(isDigest(text)).toBe(true);
    expect(digestBytes(text)).toEqual(raw);
    for (const bad of [text.toUpperCase(), text.slice(0, -1), `${text}0`, 7, undefined]) {
      expect(digestBytes(bad)).toBeUndefined();
    }
  });
});

describe('soleSignatureDigest (the receipt hash rule)', () => {
  const sig = 'A'.repeat(86);
  const env = (signatures: { keyid: string; sig: string }[]) => ({
    type: 'helm.x.v1',
    payload: 'e30',
    signatures,
  });
  it('is digest(raw signature) for exactly one 64-byte signature, else undefined', () => {
    expect(soleSignatureDigest(env([{ keyid: 'k', sig }]))).toBe(digestOfRaw(sha256(new Uint8Array(64))));
    expect(soleSignatureDigest(env([]))).toBeUndefined();
    expect(
      soleSignatureDigest(
        env([
          { keyid: 'k', sig },
          { keyid: 'l', sig },
        ]),
      ),
    ).toBeUndefined();
    expect(soleSignatureDigest(env([{ keyid: 'k', sig: 'A'.repeat(84) }]))).toBeUndefined();
    expect(soleSignatureDigest(env([{ keyid: 'k', sig: `${'A'.repeat(85)}B` }]))).toBeUndefined();
  });
});

describe('isSafeInt', () => {
  it('accepts safe integers at or above the minimum only', () => {
    expect(isSafeInt(1, 1)).toBe(true);
    expect(isSafeInt(0, 1)).toBe(false);
    expect(isSafeInt(2 ** 53, 0)).toBe(false);
    expect(isSafeInt(1.5, 0)).toBe(false);
    expect(isSafeInt('1', 0)).toBe(false);
    expect(isSafeInt(Number.MAX_SAFE_INTEGER, 0)).toBe(true);
  });
});
