// The verifier's fast paths agree exactly with their reference definitions in @helm/crypto, and
// reject every adversarial spelling the reference rejects.
import type { SignedEnvelope } from '@helm/contracts';
import { fromBase64Url, isCanonicalJson, preAuthEncoding, toBase64Url } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { ReceiptChain, verifyReceipt } from '../src/index.ts';
import { isCanonicalParsedJson } from '../src/internal/canonical.ts';
import { decodePayloadPae } from '../src/internal/pae.ts';
import { isDigestString, isKeyIdString } from '../src/internal/validate.ts';
import { input, keysOf, signerA } from './helpers.ts';

const keys = keysOf(signerA);
const receipt = new ReceiptChain({ signer: signerA, chainId: 'fast' }).mint(
  input(1, { evidence: { approval_ids: ['a', 'b'], idempotency_key: 'k-1' } }),
);
const payloadText = new TextDecoder().decode(fromBase64Url(receipt.envelope.payload));

/** isCanonicalParsedJson(text, JSON.parse(text)) must equal isCanonicalJson on the same pair. */
function agree(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const fast = isCanonicalParsedJson(text, value);
  expect(fast, JSON.stringify(text)).toBe(isCanonicalJson(text, value));
  return fast;
}

describe('isCanonicalParsedJson', () => {
  it('accepts canonical text, including forms only the exact fallback recognises', () => {
    for (const text of [
      payloadText,
      '{}',
      '[]',
      'null',
      '"x"',
      '1',
      '-0.5',
      '1e+21',
      '[{"a":[{"b":1,"c":{}}]}]',
      '{"\u00e9":1,"\ud83d\ude00":2}', // raw non-ASCII keys in UTF-16 order
      '{"":0,"a":1}',
      '{"10":1,"9":2}', // integer-like keys: JSON.parse enumerates them numerically
      '{"1":1,"a":2}',
      '{"__proto__":1,"a":2}',
      '"\\u001f\\n\\"\\\\"', // canonical escapes
    ]) {
      expect(agree(text), text).toBe(true);
    }
  });

  it('rejects every non-canonical spelling', () => {
    for (const text of [
      ' {}',
      '{} ',
      '{"a": 1}',
      '{"a":1,\n"b":2}',
      '{"b":1,"a":2}', // member order
      '{"a":1,"a":1}', // duplicate keys, same value
      '{"a":2,"a":1}',
      '{"a":{"c":1,"b":2}}', // nested order
      '[{"b":1,"a":2}]',
      '"\\/"', // needless escapes
      '"\\u0041"',
      '"\\u001F"',
      '"\\t\\u0009"',
      '"\\ud800"', // lone surrogates, escaped
      '"\\udc00x"',
      '{"\\ud800":1}',
      '"\\ud83d\\ude00"', // an escaped pair (canonical form is raw)
      '"\ud800"', // a raw lone surrogate
      '{"\udc00":1}',
      '1.0',
      '1E2',
      '1e2',
      '-0',
      '0.10',
      '1e400', // not finite
      '100000000000000000000000', // canonical is 1e+23
      '{"9":2,"10":1}', // JSON.parse order, not code-unit order
      `${'['.repeat(1001)}${']'.repeat(1001)}`, // deeper than JCS allows
      payloadText.replace('{', '{ '),
      payloadText.replace(',"chain_id"', ', "chain_id"'),
      payloadText.replace('"lamport":1', '"lamport":1.0'),
      payloadText.replace('"approval_ids":["a","b"]', '"approval_ids":["a","\\u0062"]'),
      `${payloadText.slice(0, -1)},"type":"helm.receipt.v1"}`, // duplicate of the last member
      // two adjacent top-level members swapped (all receipt fields present, one pair out of order)
      payloadText.replace(/("trust_seq":\d+),("type":"[^"]*")/, '$2,$1'),
      payloadText.replace(/("args_hash":"[^"]*"),("chain_id":"[^"]*")/, '$2,$1'),
      // a receipt-sized object whose first keys match the receipt field list but not the last
      payloadText.replace('"verdict":', '"a":'),
    ]) {
      expect(agree(text), text).toBe(false);
    }
  });

  it('agrees with isCanonicalJson on every single-character edit of a receipt payload', () => {
    const chars = [
      '',
      ' ',
      '"',
      '\\',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      '0',
      '1',
      'a',
      '-',
      '.',
      'e',
      '\u00e9',
      '\ud800',
    ];
    let canonical = 0;
    for (let at = 0; at <= payloadText.length; at++) {
      for (const c of chars) {
        for (const text of [
          payloadText.slice(0, at) + c + payloadText.slice(at),
          payloadText.slice(0, at) + c + payloadText.slice(at + 1),
        ]) {
          if (agree(text)) canonical++;
        }
      }
    }
    expect(canonical).toBeGreaterThan(0); // e.g. digit or letter swaps inside values
  });
});

describe('decodePayloadPae', () => {
  const type = 'helm.receipt.v1';
  const variants = (text: string): string[] => {
    const out: string[] = [
      `${text}=`,
      `${text}==`,
      `=${text}`,
      `${text}A`,
      `${text}AA`,
      ` ${text}`,
      `${text}\n`,
    ];
    for (const bad of ['+', '/', '=', ' ', '.', '\u00e9', '\ud800', '\u0000']) {
      for (const at of [0, 1, text.length >> 1, Math.max(0, text.length - 1)]) {
        out.push(text.slice(0, at) + bad + text.slice(at), text.slice(0, at) + bad + text.slice(at + 1));
      }
    }
    const std = Buffer.from(text, 'base64url').toString('base64');
    if (std !== text) out.push(std);
    return out;
  };

  it('gives exactly preAuthEncoding(type, fromBase64Url(text)) for canonical input', () => {
    for (const n of [0, 1, 2, 3, 4, 63, 64, 65, 99, 100, 1000, 1001, 1002, 5000]) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 97 + n) & 0xff;
      const text = toBase64Url(bytes);
      const got = decodePayloadPae(type, text, n % 3 === 0 ? n : 0);
      expect(got, `n=${n}`).toBeDefined();
      expect(got?.bytes.length).toBe((got?.pae.length as number) + (n % 3 === 0 ? n : 0));
      expect(got?.payloadOffset).toBe((got?.pae.length as number) - n);
      expect(Buffer.from(got?.pae as Uint8Array).equals(preAuthEncoding(type, bytes))).toBe(true);
      expect(Buffer.from(got?.payload as Uint8Array).equals(bytes)).toBe(true);
    }
    const real = decodePayloadPae(type, receipt.envelope.payload);
    const ref = preAuthEncoding(type, fromBase64Url(receipt.envelope.payload) as Uint8Array);
    expect(Buffer.from(real?.pae as Uint8Array).equals(ref)).toBe(true);
  });

  it('rejects exactly what fromBase64Url rejects: padding, + / =, foreign characters, bad lengths and trailing bits', () => {
    for (const n of [1, 2, 3, 32, 64, 994]) {
      const bytes = new Uint8Array(n).fill(0xa5);
      const text = toBase64Url(bytes);
      for (const v of variants(text)) {
        expect(decodePayloadPae(type, v) === undefined, JSON.stringify(v)).toBe(
          fromBase64Url(v) === undefined,
        );
        if (!/^[A-Za-z0-9_-]*$/.test(v)) expect(decodePayloadPae(type, v), JSON.stringify(v)).toBeUndefined();
      }
    }
    // every last character of a 2- and 3-character tail: only zero trailing bits are canonical
    for (const base of ['AAAA', 'AAAAA', 'AAAAAA']) {
      for (const last of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
        const v = base + last;
        expect(decodePayloadPae(type, v) === undefined, v).toBe(fromBase64Url(v) === undefined);
      }
    }
    expect(decodePayloadPae('helm.r\u00e9ceipt.v1', 'AAAA')).toBeUndefined();
  });
});

describe('digest and key id checks', () => {
  const hex = 'a'.repeat(64);
  it('match the reference patterns on adversarial strings', () => {
    const DIGEST = /^sha256:[0-9a-f]{64}$/;
    const KEYID = /^ed25519:[0-9a-f]{64}$/;
    const cases: unknown[] = [null, undefined, 5, {}, '', 'sha256:', `sha256:${hex}`, `ed25519:${hex}`];
    for (const prefix of ['sha256:', 'ed25519:', 'SHA256:', 'sha256;', 'ed25519-', '']) {
      for (const body of [
        hex,
        '0123456789abcdef'.repeat(4),
        'A'.repeat(64),
        'g'.repeat(64),
        `${'a'.repeat(63)}F`,
        `${'a'.repeat(63)}/`,
        `${'a'.repeat(63)}:`,
        `${'a'.repeat(63)}\``,
        `${'a'.repeat(63)}\u0660`,
        // code units ≥ 0x80 whose low 7 bits are a hex digit ('a', '0', '0', 'f')
        `${'a'.repeat(63)}\u00e1`,
        `\u0130${'a'.repeat(63)}`,
        `${'a'.repeat(31)}\u0830${'a'.repeat(32)}`,
        `${'a'.repeat(32)}\uffe6${'a'.repeat(31)}`,
        'a'.repeat(63),
        'a'.repeat(65),
        `${hex}\n`,
        ` ${hex.slice(1)}`,
      ]) {
        cases.push(prefix + body);
      }
    }
    for (const v of cases) {
      const s = typeof v === 'string';
      expect(isDigestString(v), String(v)).toBe(s && DIGEST.test(v as string));
      expect(isKeyIdString(v), String(v)).toBe(s && KEYID.test(v as string));
    }
  });
});

describe('verifyReceipt through the fast paths', () => {
  function signed(payload: string): SignedEnvelope {
    const bytes = fromBase64Url(payload) ?? Buffer.from(payload, 'base64url');
    const sig = signerA.sign(preAuthEncoding('helm.receipt.v1', bytes));
    return {
      type: 'helm.receipt.v1',
      payload,
      signatures: [{ keyid: signerA.keyId, sig: toBase64Url(sig) }],
    };
  }
  const resign = (text: string) => signed(toBase64Url(new TextEncoder().encode(text)));

  it('accepts the real receipt', () => {
    expect(verifyReceipt(receipt.envelope, keys)).toMatchObject({ ok: true });
    expect(verifyReceipt(resign(payloadText), keys)).toMatchObject({ ok: true });
  });

  it('rejects validly signed payloads whose base64url or JSON spelling is not canonical', () => {
    const std = Buffer.from(receipt.envelope.payload, 'base64url').toString('base64');
    expect(std).toMatch(/[+/=]/);
    const bad = [
      signed(std), // '+' '/' and '=' padding: same bytes, non-canonical text
      signed(`${receipt.envelope.payload}=`),
      resign(payloadText.replace(',"chain_id"', ', "chain_id"')),
      resign(payloadText.replace('"chain_id"', '"receipt_id":"x","chain_id"')),
      resign(payloadText.replace('"tool":"fs_write"', '"tool":"fs_\\u0077rite"')),
      resign(payloadText.replace('"tool":"fs_write"', '"tool":"fs_write\\ud800"')),
      // a raw lone surrogate in the bytes (CESU-8 ED A0 80) is not UTF-8
      signed(
        toBase64Url(
          Buffer.concat([
            Buffer.from(payloadText.slice(0, payloadText.indexOf('alice'))),
            Buffer.from([0xed, 0xa0, 0x80]),
            Buffer.from(payloadText.slice(payloadText.indexOf('alice') + 5)),
          ]),
        ),
      ),
      resign(`${payloadText.slice(0, -1)},"verdict":"ALLOW"}`),
      resign(`${payloadText} `),
    ];
    for (const env of bad) {
      expect(verifyReceipt(env, keys), env.payload.slice(0, 40)).toMatchObject({
        ok: false,
        code: 'MALFORMED',
      });
    }
  });

  it('a non-ASCII payload locates receipt_id by bytes (multi-byte characters before and after it)', () => {
    const r = new ReceiptChain({ signer: signerA, chainId: 'fast' }).mint(
      input(1, {
        principal: 'agent:\u00e9l\u00e8ve',
        tool: 't\u{1f600}',
        evidence: { note: '\u65e5\u672c' },
      }),
    );
    expect(verifyReceipt(r.envelope, keys)).toMatchObject({ ok: true });
    const text = new TextDecoder().decode(fromBase64Url(r.envelope.payload));
    const tampered = text.replace(
      /"receipt_id":"sha256:[0-9a-f]{64}"/,
      `"receipt_id":"sha256:${'0'.repeat(64)}"`,
    );
    expect(verifyReceipt(resign(tampered), keys)).toMatchObject({ ok: false, code: 'RECEIPT_ID_MISMATCH' });
  });
});
