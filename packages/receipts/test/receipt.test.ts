import { RECEIPT_GENESIS_PREV_HASH } from '@helm/contracts';
import { canonicalBytes, digest, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  genesisHead,
  mintReceipt,
  ReceiptChain,
  ReceiptError,
  receiptHash,
  verifyReceipt,
} from '../src/index.ts';
import { d, decodeBody, input, keysOf, signerA, signerB } from './helpers.ts';

describe('mintReceipt', () => {
  it('binds every field inside the signed canonical payload, with a content-derived receipt_id', () => {
    const r = mintReceipt(input(1), genesisHead('chain-1'), signerA);
    const body = decodeBody(r.envelope);
    expect(body).toStrictEqual(r.body);
    expect(body.lamport).toBe(1);
    expect(body.prev_hash).toBe(RECEIPT_GENESIS_PREV_HASH);
    expect(body.keyid).toBe(signerA.keyId);
    const { receipt_id, ...rest } = body;
    expect(receipt_id).toBe(digest(canonicalBytes(rest)));
    // Exactly what the generic envelope signer produces for the same body.
    expect(r.envelope).toStrictEqual(signEnvelope(r.body, [signerA]));
    // Receipt hash = SHA-256 of the raw 64-byte signature.
    expect(r.hash).toBe(digest(Buffer.from((r.envelope.signatures[0] as { sig: string }).sig, 'base64url')));
    expect(receiptHash(r.envelope)).toBe(r.hash);
    expect(receiptHash({ ...r.envelope, signatures: [] })).toBeUndefined();
    expect(
      receiptHash({ ...r.envelope, signatures: [{ keyid: signerA.keyId, sig: 'AAAA' }] }),
    ).toBeUndefined();
    expect(
      receiptHash({ ...r.envelope, signatures: [{ keyid: signerA.keyId, sig: '***' }] }),
    ).toBeUndefined();
  });

  it('is deterministic: same inputs give the same bytes; any change gives different ones', () => {
    const a = mintReceipt(input(1), genesisHead('chain-1'), signerA);
    const b = mintReceipt(input(1), genesisHead('chain-1'), signerA);
    expect(b.envelope).toStrictEqual(a.envelope);
    const c = mintReceipt(input(1, { issued_at_ms: 1 }), genesisHead('chain-1'), signerA);
    expect(c.envelope.payload).not.toBe(a.envelope.payload);
    expect(c.body.receipt_id).not.toBe(a.body.receipt_id);
  });

  it('places receipt_id correctly even when evidence contains look-alike members', () => {
    const evidence = { risk_tier: 'x', receipt_id: 'y', zz: ['a', '"quoted",'], a: ',"risk_tier":' };
    const r = mintReceipt(input(1, { evidence }), genesisHead('c'), signerA);
    expect(r.envelope).toStrictEqual(signEnvelope(r.body, [signerA]));
    const check = verifyReceipt(r.envelope, keysOf(signerA));
    expect(check.ok).toBe(true);
  });

  it.each([
    ['status SUCCEEDED with verdict DENY', { verdict: 'DENY', reason_code: 'POLICY_DENY' }],
    [
      'a reason code of another verdict',
      { status: 'DENIED', verdict: 'DENY', reason_code: 'ALLOW', output_hash: null },
    ],
    ['an unregistered reason code', { reason_code: 'NOPE' }],
    ['SUCCEEDED without output hash', { output_hash: null }],
    ['DENIED with an output hash', { status: 'DENIED', verdict: 'DENY', reason_code: 'POLICY_DENY' }],
    ['a bad digest', { decision_id: 'sha256:xyz' }],
    ['a fractional time', { issued_at_ms: 1.5 }],
    ['a negative time', { issued_at_ms: -1 }],
    ['an empty tool', { tool: '' }],
    ['an upper-case effect class', { effect_class: 'FS' }],
    ['an unknown risk tier', { risk_tier: 'NONE' }],
    ['an empty session id', { session_id: '' }],
    ['bad evidence keys', { evidence: { 'Bad-Key': 'x' } }],
    ['non-string evidence', { evidence: { n: 1 } }],
    ['non-string evidence items', { evidence: { n: [1] } }],
    ['too long evidence', { evidence: { n: 'x'.repeat(4097) } }],
    ['too many evidence items', { evidence: { n: Array(257).fill('x') } }],
    [
      'too many evidence fields',
      { evidence: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
    ],
    ['evidence that is a list', { evidence: [] }],
    ['a wrong status', { status: 'DONE' }],
    ['a wrong verdict', { verdict: 'MAYBE' }],
    ['a bad args hash', { args_hash: 'x' }],
    ['a bad effect id', { effect_id: 5 }],
    ['a bad policy hash', { policy_hash: null }],
    ['an empty principal', { principal: '' }],
    ['a bad request digest', { request_digest: 'sha256:12' }],
    ['trust_seq 0 (the genesis is seq 1)', { trust_seq: 0 }],
    ['a fractional trust_seq', { trust_seq: 2.5 }],
    ['a missing trust_seq', { trust_seq: undefined }],
    ['a bad trust head', { trust_head: 'head' }],
    ['a null trust head', { trust_head: null }],
  ])('rejects %s with RECEIPT_INPUT_INVALID', (_name, overrides) => {
    expect(() => mintReceipt(input(1, overrides as object), genesisHead('c'), signerA)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_INPUT_INVALID' }),
    );
  });

  it('rejects a malformed chain id and a non-genesis head at lamport 0', () => {
    expect(() => mintReceipt(input(1), genesisHead('bad chain'), signerA)).toThrow(ReceiptError);
    expect(() => mintReceipt(input(1), { chain_id: 'c', lamport: 0, hash: d('x') }, signerA)).toThrow(
      ReceiptError,
    );
    expect(() =>
      mintReceipt(input(1), { chain_id: 'c', lamport: 4, hash: RECEIPT_GENESIS_PREV_HASH }, signerA),
    ).toThrow(ReceiptError);
  });
});

describe('ReceiptChain', () => {
  it('links each receipt to the previous receipt hash and counts Lamport up by one', () => {
    const chain = new ReceiptChain({ signer: signerA, chainId: 'chain-1' });
    const r1 = chain.mint(input(1));
    const r2 = chain.mint(input(2));
    const r3 = chain.mint(input(3));
    expect([r1.body.lamport, r2.body.lamport, r3.body.lamport]).toStrictEqual([1, 2, 3]);
    expect(r2.body.prev_hash).toBe(r1.hash);
    expect(r3.body.prev_hash).toBe(r2.hash);
    expect(chain.head).toStrictEqual({ chain_id: 'chain-1', lamport: 3, hash: r3.hash });
  });

  it('prepare does not move the head; commit refuses a receipt that does not follow it', () => {
    const chain = new ReceiptChain({ signer: signerA, chainId: 'c' });
    const p = chain.prepare(input(1));
    expect(chain.head.lamport).toBe(0);
    chain.commit(p);
    expect(() => chain.commit(p)).toThrow(expect.objectContaining({ code: 'CHAIN_HEAD_MOVED' }));
    const other = new ReceiptChain({ signer: signerB, chainId: 'other' }).prepare(input(1));
    expect(() => chain.commit(other)).toThrow(expect.objectContaining({ code: 'CHAIN_HEAD_MOVED' }));
  });

  it('continues from a given head and validates it', () => {
    const a = new ReceiptChain({ signer: signerA, chainId: 'c' });
    a.mint(input(1));
    const b = new ReceiptChain({ signer: signerA, chainId: 'c', head: a.head });
    expect(b.mint(input(2)).body.prev_hash).toBe(a.head.hash);
    expect(() => new ReceiptChain({ signer: signerA, chainId: 'x', head: a.head })).toThrow(ReceiptError);
    expect(
      () => new ReceiptChain({ signer: signerA, chainId: 'c', head: { ...a.head, lamport: -1 } }),
    ).toThrow(ReceiptError);
  });
});
