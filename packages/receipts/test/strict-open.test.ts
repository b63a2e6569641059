// verifyReceipt decodes through @helm/crypto's one strict opener (openEnvelope) and checks
// receipt_id by the plain rule digest(JCS(body without receipt_id)). Its accept set must equal that
// of the generic verifier (verifyEnvelope) plus the receipt rules, on every adversarial spelling.
import type { ReceiptBody, SignedEnvelope } from '@helm/contracts';
import {
  canonicalDigest,
  fromBase64Url,
  openVerifiedEnvelope,
  preAuthEncoding,
  toBase64Url,
} from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { ReceiptChain, verifyReceipt } from '../src/index.ts';
import { receiptBodyProblem } from '../src/internal/validate.ts';
import { input, keysOf, signerA } from './helpers.ts';

const keys = keysOf(signerA);
const receipt = new ReceiptChain({ signer: signerA, chainId: 'fast' }).mint(
  input(1, { evidence: { approval_ids: ['a', 'b'], idempotency_key: 'k-1' } }),
);
const payloadText = new TextDecoder().decode(fromBase64Url(receipt.envelope.payload));

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

/** The plain reference: generic envelope verification, the body rules, the receipt_id rule. */
function reference(env: SignedEnvelope): boolean {
  let body: ReceiptBody;
  try {
    body = openVerifiedEnvelope<ReceiptBody>(env, 'helm.receipt.v1', keys).body;
  } catch {
    return false;
  }
  if (receiptBodyProblem(body, true) !== undefined) return false;
  const { receipt_id, ...rest } = body;
  return canonicalDigest(rest) === receipt_id;
}

function agree(text: string): boolean {
  const env = resign(text);
  const ours = verifyReceipt(env, keys).ok;
  expect(ours, JSON.stringify(text)).toBe(reference(env));
  return ours;
}

describe('verifyReceipt agrees with the generic verifier plus the receipt rules', () => {
  it('rejects every non-canonical spelling (signed validly)', () => {
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

  it('agrees on single-character edits all along a receipt payload', () => {
    // every position modulo a stride co-prime to the member lengths, each edit signed afresh
    const chars = ['', ' ', '"', '\\', ',', '}', '0', 'a', '\u00e9', '\ud800'];
    let accepted = 0;
    for (let at = 0; at <= payloadText.length; at += 3) {
      for (const c of chars) {
        for (const text of [
          payloadText.slice(0, at) + c + payloadText.slice(at),
          payloadText.slice(0, at) + c + payloadText.slice(at + 1),
        ]) {
          if (agree(text)) accepted++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(0); // e.g. a hex digit of a digest replaced by another
    // ~6,700 fresh signatures, each verified twice: seconds on an idle core, far more when turbo
    // runs every package's suite at once on two cores — a correctness test, not a timed one.
  }, 180_000);
});

describe('verifyReceipt on adversarial envelopes', () => {
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

  it('checks receipt_id on non-ASCII payloads (multi-byte characters before and after it)', () => {
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
