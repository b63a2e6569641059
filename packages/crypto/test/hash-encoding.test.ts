import { createHash } from 'node:crypto';
import { isReasonCode } from '@helm/contracts';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  CRYPTO_ERROR_CODES,
  CryptoError,
  canonicalDigest,
  canonicalize,
  digest,
  digestBytes,
  fromBase64Url,
  fromHex,
  isCryptoError,
  isDigest,
  reasonCodeFor,
  sha256,
  sha256Hex,
  toBase64Url,
  toHex,
} from '../src/index.ts';

const enc = new TextEncoder();

describe('SHA-256', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('FIPS 180 vector %j (node and portable agree)', (text, hex) => {
    const data = enc.encode(text);
    expect(toHex(sha256(data))).toBe(hex);
    expect(toHex(nobleSha256(data))).toBe(hex);
    expect(sha256Hex(data)).toBe(hex);
    expect(digest(data)).toBe(`sha256:${hex}`);
  });

  it('agrees with node:crypto on a 1 MiB buffer and on subarray views', () => {
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const view = big.subarray(1000, 5000);
    expect(toHex(sha256(big))).toBe(createHash('sha256').update(big).digest('hex'));
    expect(toHex(nobleSha256(view))).toBe(createHash('sha256').update(view).digest('hex'));
    expect(sha256(view)).toEqual(nobleSha256(view));
  });

  it('recognises and decodes digest strings', () => {
    const d = digest(enc.encode('x'));
    expect(isDigest(d)).toBe(true);
    expect(digestBytes(d)).toEqual(sha256(enc.encode('x')));
    for (const bad of [d.toUpperCase(), `${d}0`, d.slice(0, -1), `sha512:${d.slice(7)}`, 42, null]) {
      expect(isDigest(bad)).toBe(false);
    }
    expect(digestBytes('sha256:zz')).toBeUndefined();
  });

  it('canonicalDigest hashes the JCS bytes, independent of key order', () => {
    expect(canonicalDigest({ b: 1, a: 2 })).toBe(digest(enc.encode('{"a":2,"b":1}')));
    expect(canonicalDigest({ a: 2, b: 1 })).toBe(canonicalDigest({ b: 1, a: 2 }));
  });
});

describe('encodings', () => {
  it('base64url: unpadded, strict, canonical', () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0xbf, 0x00, 0x01);
    const text = toBase64Url(bytes);
    expect(text).toBe('-_-_AAE');
    expect(fromBase64Url(text)).toEqual(bytes);
    expect(fromBase64Url('')).toEqual(new Uint8Array());
    expect(toBase64Url(bytes.subarray(1, 3))).toBe('_78');
    for (const bad of ['-_-_AAE=', '+/+/AAE', 'a', 'ab c', 'AB', 'AAF']) {
      // 'AB' and 'AAF' have non-zero trailing bits: not the canonical encoding of any bytes
      expect(fromBase64Url(bad), bad).toBeUndefined();
    }
    expect(fromBase64Url('AA')).toEqual(Uint8Array.of(0));
  });

  it('hex: lowercase, even length, strict', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0xff))).toBe('00abff');
    expect(fromHex('00abff')).toEqual(Uint8Array.of(0, 0xab, 0xff));
    for (const bad of ['ABFF', 'abf', 'zz', '0x00']) expect(fromHex(bad), bad).toBeUndefined();
  });

  it('bytesEqual compares length and content', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
  });
});

describe('errors', () => {
  it('are typed with a closed code set', () => {
    let caught: unknown;
    try {
      canonicalize(Number.NaN);
    } catch (error) {
      caught = error;
    }
    expect(isCryptoError(caught)).toBe(true);
    expect(isCryptoError(caught, 'JCS_NON_FINITE_NUMBER')).toBe(true);
    expect(isCryptoError(caught, 'JCS_CYCLE')).toBe(false);
    expect(isCryptoError(new Error('x'))).toBe(false);
    expect((caught as CryptoError).name).toBe('CryptoError');
    expect(CRYPTO_ERROR_CODES).toContain((caught as CryptoError).code);
    expect(new Set(CRYPTO_ERROR_CODES).size).toBe(CRYPTO_ERROR_CODES.length);
  });
});

describe('reasonCodeFor', () => {
  it('maps every crypto error code to a registered reason code, and anything else to INTERNAL_ERROR', () => {
    for (const code of CRYPTO_ERROR_CODES) {
      const reason = reasonCodeFor(new CryptoError(code, 'x'));
      expect(isReasonCode(reason), code).toBe(true);
    }
    expect(reasonCodeFor(new CryptoError('ENVELOPE_SIGNATURE_INVALID', 'x'))).toBe('SIGNATURE_INVALID');
    expect(reasonCodeFor(new CryptoError('ENVELOPE_KEY_UNKNOWN', 'x'))).toBe('TRUST_KEY_UNKNOWN');
    expect(reasonCodeFor(new CryptoError('ENVELOPE_NOT_CANONICAL', 'x'))).toBe('ENVELOPE_INVALID');
    expect(reasonCodeFor(new CryptoError('JSON_DUPLICATE_KEY', 'x'))).toBe('ARGS_MALFORMED');
    expect(reasonCodeFor(new Error('boom'))).toBe('INTERNAL_ERROR');
    expect(reasonCodeFor('nope')).toBe('INTERNAL_ERROR');
  });
});

describe('fast paths agree with their reference definitions', () => {
  it('sha256 / sha256Hex / digest equal createHash over lengths 0..300 and subarrays', () => {
    for (let n = 0; n <= 300; n++) {
      const buf = new Uint8Array(n + 3);
      for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + n * 7) & 0xff;
      const data = buf.subarray(n % 3, (n % 3) + n);
      const ref = createHash('sha256').update(data).digest();
      expect(Buffer.from(sha256(data)).equals(ref)).toBe(true);
      expect(sha256Hex(data)).toBe(ref.toString('hex'));
      expect(digest(data)).toBe(`sha256:${ref.toString('hex')}`);
    }
  });

  it('fromBase64Url accepts exactly the strings toBase64Url produces', () => {
    // Reference: decode leniently, accept iff re-encoding gives the same text.
    const reference = (text: string): Uint8Array | undefined => {
      if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
      const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
      return Buffer.from(bytes).toString('base64url') === text ? bytes : undefined;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .';
    let accepted = 0;
    for (const prefix of ['', 'AAAA', 'QUJD']) {
      for (const a of alphabet) {
        for (const b of alphabet) {
          for (const tail of ['', 'A', 'Q', 'w', '_', '=']) {
            const text = `${prefix}${a}${b}${tail}`;
            const got = fromBase64Url(text);
            const want = reference(text);
            expect(got, text).toEqual(want);
            if (got) accepted++;
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it('fromBase64Url (re-encode check) rejects every non-canonical variant of long inputs', () => {
    // Independent reference: alphabet regex, length rule and the arithmetic trailing-bit rule.
    const value = (c: number) => (c >= 97 ? c - 71 : c >= 65 ? c - 65 : c >= 48 ? c + 4 : c === 45 ? 62 : 63);
    const arithmetic = (text: string): boolean => {
      const rem = text.length % 4;
      if (rem === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) return false;
      return rem === 0 || (value(text.charCodeAt(text.length - 1)) & (rem === 2 ? 0x0f : 0x03)) === 0;
    };
    const intruders = [
      '+',
      '/',
      '=',
      '==',
      ' ',
      '\n',
      '\t',
      '.',
      '!',
      'é',
      '\u0000',
      '\ud800',
      '\udc00',
      '😀',
    ];
    for (const n of [1, 2, 3, 31, 32, 33, 64, 65, 66, 994, 995, 996, 4096]) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 151 + n * 13) & 0xff;
      const text = toBase64Url(bytes);
      expect(fromBase64Url(text), `n=${n}`).toEqual(bytes);
      for (const bad of intruders) {
        for (const at of [0, 1, text.length >> 1, text.length - 1, text.length]) {
          const inserted = text.slice(0, at) + bad + text.slice(at);
          const replaced = text.slice(0, at) + bad + text.slice(at + 1);
          for (const variant of [inserted, replaced]) {
            expect(fromBase64Url(variant), JSON.stringify(variant)).toBeUndefined();
            expect(arithmetic(variant)).toBe(false);
          }
        }
      }
      // the standard alphabet's spelling of the same bytes, and a padded one, are rejected
      const std = Buffer.from(bytes).toString('base64');
      if (std !== text) expect(fromBase64Url(std), std).toBeUndefined();
      expect(fromBase64Url(`${text}=`)).toBeUndefined();
      // every other last character: accepted exactly when the arithmetic rule accepts it
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      for (const last of alphabet) {
        const variant = text.slice(0, -1) + last;
        const got = fromBase64Url(variant);
        expect(got !== undefined, variant).toBe(arithmetic(variant));
        if (got) expect(toBase64Url(got)).toBe(variant);
      }
    }
    expect(fromBase64Url(42 as unknown as string)).toBeUndefined();
    expect(fromBase64Url(undefined as unknown as string)).toBeUndefined();
  });
});

describe('fromBase64Url against a reference definition', () => {
  // Reference: alphabet by regex, length ≢ 1 (mod 4), zero unused bits in the last character.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const reference = (s: string): boolean => {
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return false;
    if (s.length === 0) return true;
    const v = ALPHABET.indexOf(s[s.length - 1] as string);
    return s.length % 4 === 2 ? (v & 0x0f) === 0 : s.length % 4 === 3 ? (v & 0x03) === 0 : true;
  };
  it('accepts and rejects exactly what the reference does under single-character edits', () => {
    const chars = [
      ...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)),
      'é',
      '\u00ff',
      '\u2028',
      '\ud800',
      '😀',
    ];
    let checked = 0;
    for (let len = 0; len <= 7; len++) {
      const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 97 + len * 31) & 0xff);
      const base = toBase64Url(bytes);
      const variants: string[] = [];
      for (let i = 0; i <= base.length; i++) {
        for (const c of chars) {
          variants.push(base.slice(0, i) + c + base.slice(i)); // insert
          if (i < base.length) variants.push(base.slice(0, i) + c + base.slice(i + 1)); // replace
        }
        if (i < base.length) variants.push(base.slice(0, i) + base.slice(i + 1)); // delete
      }
      for (const v of variants) {
        const got = fromBase64Url(v);
        expect(got !== undefined, JSON.stringify(v)).toBe(reference(v));
        if (got) expect(toBase64Url(got)).toBe(v);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
