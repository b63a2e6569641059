import type { SignedEnvelope } from '@helm/contracts';
import { preAuthEncoding, toBase64Url } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  linkReceipts,
  type MintedReceipt,
  RECEIPT_SIGNER_ROLE,
  ReceiptChain,
  verifyReceipt,
  verifyReceiptChain,
  verifyReceiptSignatures,
} from '../src/index.ts';
import { d, decodeBody, forge, input, keysOf, signerA, signerB } from './helpers.ts';

function makeChain(n: number, chainId = 'chain-1', signer = signerA): MintedReceipt[] {
  const chain = new ReceiptChain({ signer, chainId });
  return Array.from({ length: n }, (_, i) => chain.mint(input(i + 1)));
}

const keys = keysOf(signerA);
const envs = (rs: MintedReceipt[]) => rs.map((r) => r.envelope);
const verify = (list: readonly unknown[], extra: object = {}) => verifyReceiptChain(list, { keys, ...extra });

function reencode(env: SignedEnvelope, edit: (b: Record<string, unknown>) => void): SignedEnvelope {
  const body = decodeBody(env);
  edit(body);
  // Keep members in canonical order so only the edit differs.
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...env, payload: toBase64Url(new TextEncoder().encode(JSON.stringify(sorted))) };
}

describe('verifyReceiptChain: valid chains', () => {
  it('accepts a valid chain and reports its head', () => {
    const rs = makeChain(5);
    const res = verify(envs(rs));
    expect(res).toStrictEqual({
      ok: true,
      head: { chain_id: 'chain-1', lamport: 5, hash: rs[4]?.hash },
      count: 5,
    });
  });

  it('accepts the empty chain, and an expected head detects total truncation', () => {
    expect(verify([])).toMatchObject({ ok: true, count: 0 });
    const rs = makeChain(2);
    const head = { chain_id: 'chain-1', lamport: 2, hash: rs[1]?.hash as string };
    expect(verify([], { expectedHead: head, chainId: 'chain-1' })).toMatchObject({
      ok: false,
      code: 'TRUNCATED',
      index: 0,
    });
  });

  it('verifies a slice continuing from a known head', () => {
    const rs = makeChain(6);
    const from = { chain_id: 'chain-1', lamport: 3, hash: rs[2]?.hash as string };
    expect(verify(envs(rs).slice(3), { from })).toMatchObject({ ok: true, count: 3 });
    expect(verify(envs(rs).slice(4), { from })).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', index: 0 });
  });
});

describe('I-EVIDENCE-1 verifyReceiptChain: tampering is detected at the first bad index', () => {
  const rs = makeChain(6);
  const list = envs(rs);

  it('reordering two receipts', () => {
    const swapped = [...list];
    [swapped[2], swapped[3]] = [swapped[3] as SignedEnvelope, swapped[2] as SignedEnvelope];
    expect(verify(swapped)).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', index: 2 });
  });

  it('dropping a receipt in the middle, the first one, or the tail (with an expected head)', () => {
    expect(verify(list.filter((_, i) => i !== 3))).toMatchObject({
      ok: false,
      code: 'CHAIN_BROKEN',
      index: 3,
    });
    expect(verify(list.slice(1))).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', index: 0 });
    const expectedHead = { chain_id: 'chain-1', lamport: 6, hash: rs[5]?.hash as string };
    expect(verify(list.slice(0, 4), { expectedHead })).toMatchObject({
      ok: false,
      code: 'TRUNCATED',
      index: 4,
    });
    expect(verify(list, { expectedHead })).toMatchObject({ ok: true });
  });

  it('inserting a validly signed receipt from another chain or a fork', () => {
    const foreign = makeChain(3, 'chain-2')[1]?.envelope as SignedEnvelope;
    const withForeign = [...list.slice(0, 2), foreign, ...list.slice(2)];
    expect(verify(withForeign)).toMatchObject({ ok: false, code: 'CHAIN_ID_MISMATCH', index: 2 });
    // A fork: a different receipt signed on top of receipt 2 by the legitimate key.
    const fork = new ReceiptChain({
      signer: signerA,
      chainId: 'chain-1',
      head: { chain_id: 'chain-1', lamport: 2, hash: rs[1]?.hash as string },
    });
    const forked = fork.mint(input(99)).envelope;
    expect(verify([...list.slice(0, 3), forked, ...list.slice(3)])).toMatchObject({
      ok: false,
      code: 'CHAIN_BROKEN',
      index: 3,
    });
  });

  it('duplicating a receipt', () => {
    expect(verify([...list.slice(0, 3), list[2], ...list.slice(3)])).toMatchObject({
      ok: false,
      code: 'DUPLICATE',
      index: 3,
    });
    expect(verify([...list, list[0]])).toMatchObject({ ok: false, code: 'DUPLICATE', index: 6 });
  });

  it.each([
    'status',
    'output_hash',
    'prev_hash',
    'lamport',
    'args_hash',
    'reason_code',
    'principal',
    'issued_at_ms',
    'evidence',
  ])('editing %s of a receipt (signature no longer verifies)', (field) => {
    const edited = [...list];
    edited[2] = reencode(list[2] as SignedEnvelope, (b) => {
      const values: Record<string, unknown> = {
        status: 'DENIED',
        output_hash: d('other output'),
        prev_hash: d('x'),
        lamport: 7,
        args_hash: d('other args'),
        reason_code: 'POLICY_DENY',
        principal: 'agent:mallory',
        issued_at_ms: 1,
        evidence: { note: 'x' },
      };
      b[field] = values[field];
      if (field === 'status') {
        b.verdict = 'DENY';
        b.reason_code = 'POLICY_DENY';
        b.output_hash = null;
      }
      if (field === 'reason_code') {
        b.status = 'DENIED';
        b.verdict = 'DENY';
        b.output_hash = null;
      }
    });
    expect(verify(edited)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', index: 2 });
  });

  it('editing the signature, or re-signing with an unknown key', () => {
    const edited = [...list];
    const env = list[1] as SignedEnvelope;
    const sig = Buffer.from((env.signatures[0] as { sig: string }).sig, 'base64url');
    sig[5] = (sig[5] as number) ^ 1;
    edited[1] = { ...env, signatures: [{ keyid: signerA.keyId, sig: sig.toString('base64url') }] };
    expect(verify(edited)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', index: 1 });
    const byB = forge({ ...decodeBody(env), keyid: signerB.keyId }, signerB);
    expect(verify([list[0], byB])).toMatchObject({ ok: false, code: 'KEY_UNKNOWN', index: 1 });
    // With B trusted too, a receipt by B that links correctly is accepted (keys decide, not order).
    expect(verifyReceiptChain([list[0], byB], { keys: keysOf(signerA, signerB) })).toMatchObject({
      ok: true,
    });
  });

  it('a receipt_id that is not the body digest (signed by the real key)', () => {
    const bad = forge({ ...decodeBody(list[0] as SignedEnvelope), receipt_id: d('nope') }, signerA, false);
    expect(verify([bad])).toMatchObject({ ok: false, code: 'RECEIPT_ID_MISMATCH', index: 0 });
  });

  it('a body keyid that differs from the signature keyid', () => {
    const bad = forge({ ...decodeBody(list[0] as SignedEnvelope), keyid: signerB.keyId }, signerA);
    expect(verify([bad])).toMatchObject({ ok: false, code: 'KEYID_MISMATCH', index: 0 });
  });

  it('Lamport regression and gap from a signer that links correctly but counts wrong', () => {
    const b1 = decodeBody(list[0] as SignedEnvelope);
    const second = forge({ ...decodeBody(list[1] as SignedEnvelope), lamport: 1, prev_hash: rs[0]?.hash });
    // lamport 1 demands the genesis prev_hash, so a regression to 1 is malformed; use a chain at 3.
    expect(verify([list[0], second])).toMatchObject({ ok: false, code: 'MALFORMED', index: 1 });
    const gap = forge({ ...decodeBody(list[1] as SignedEnvelope), lamport: 5, prev_hash: rs[0]?.hash });
    expect(verify([list[0], gap])).toMatchObject({ ok: false, code: 'LAMPORT_GAP', index: 1 });
    const from = { chain_id: 'chain-1', lamport: 3, hash: rs[2]?.hash as string };
    const regress = forge({ ...b1, lamport: 2, prev_hash: rs[2]?.hash });
    expect(verify([regress], { from })).toMatchObject({ ok: false, code: 'LAMPORT_REGRESSION', index: 0 });
  });

  it('an expected head with the same length but another hash, or of another chain', () => {
    const wrong = { chain_id: 'chain-1', lamport: 6, hash: d('other') };
    expect(verify(list, { expectedHead: wrong })).toMatchObject({
      ok: false,
      code: 'HEAD_MISMATCH',
      index: 5,
    });
    const shorter = { chain_id: 'chain-1', lamport: 5, hash: rs[4]?.hash as string };
    expect(verify(list, { expectedHead: shorter })).toMatchObject({ ok: false, code: 'HEAD_MISMATCH' });
    expect(verify(list, { expectedHead: { ...shorter, chain_id: 'x' } })).toMatchObject({
      ok: false,
      code: 'CHAIN_ID_MISMATCH',
    });
  });
});

describe('verifyReceipt: malformed input', () => {
  const env = makeChain(1)[0]?.envelope as SignedEnvelope;
  it.each([
    ['null', null],
    ['a string', 'x'],
    ['a wrong type', { ...env, type: 'helm.node.v1' }],
    ['a non-string payload', { ...env, payload: 5 }],
    ['no signatures', { ...env, signatures: [] }],
    ['two signatures', { ...env, signatures: [env.signatures[0], env.signatures[0]] }],
    ['a null signature entry', { ...env, signatures: [null] }],
    ['a signature entry with extra fields', { ...env, signatures: [{ ...env.signatures[0], x: 1 }] }],
    ['a signature without sig', { ...env, signatures: [{ keyid: signerA.keyId }] }],
    ['an extra envelope field', { ...env, extra: 1 }],
    ['padded base64', { ...env, payload: `${env.payload}=` }],
    ['bad base64 signature', { ...env, signatures: [{ keyid: signerA.keyId, sig: '***' }] }],
    ['non-JSON payload', { ...env, payload: toBase64Url(new TextEncoder().encode('{nope')) }],
    ['invalid UTF-8', { ...env, payload: toBase64Url(Uint8Array.from([0xff, 0xfe])) }],
    ['a payload that is an array', { ...env, payload: toBase64Url(new TextEncoder().encode('[]')) }],
  ])('%s → MALFORMED', (_name, value) => {
    const r = verifyReceipt(value, keys);
    expect(r).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it('non-canonical payload (whitespace) is MALFORMED even when validly signed', () => {
    const body = decodeBody(env);
    const bytes = new TextEncoder().encode(JSON.stringify(body, null, 1));
    const sig = signerA.sign(preAuthEncoding('helm.receipt.v1', bytes));
    const bad = {
      type: 'helm.receipt.v1',
      payload: toBase64Url(bytes),
      signatures: [{ keyid: signerA.keyId, sig: toBase64Url(sig) }],
    };
    expect(verifyReceipt(bad, keys)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it.each([
    ['an unknown field', (b: Record<string, unknown>) => (b.extra = 1)],
    ['a missing field', (b: Record<string, unknown>) => delete b.tool],
    ['a missing receipt_id', (b: Record<string, unknown>) => delete b.receipt_id],
    ['a wrong body type', (b: Record<string, unknown>) => (b.type = 'helm.other.v1')],
    ['a bad receipt_id', (b: Record<string, unknown>) => (b.receipt_id = 'x')],
    ['genesis prev_hash at lamport 2', (b: Record<string, unknown>) => (b.lamport = 2)],
  ])('a validly signed body with %s → MALFORMED', (_name, edit) => {
    const body = decodeBody(env);
    edit(body);
    const bad = forge(body, signerA, false);
    expect(verifyReceipt(bad, keys)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it.each([
    ['unsorted approval_ids', { approval_ids: ['b', 'a'] }],
    ['duplicate approval_ids', { approval_ids: ['a', 'a'] }],
    // sorted by code points ('\u{1F600}' > '\uFF5E') but not by UTF-16 code units (0xD83D < 0xFF5E)
    ['approval_ids sorted by code points, not UTF-16 code units', { approval_ids: ['\uFF5E', '\u{1F600}'] }],
    ['approval_ids as a string', { approval_ids: 'a' }],
  ])('a validly signed receipt with %s → MALFORMED', (_name, evidence) => {
    const bad = forge({ ...decodeBody(env), evidence });
    expect(verifyReceipt(bad, keys)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it('approval_ids distinct and sorted by UTF-16 code units verify', () => {
    const good = forge({
      ...decodeBody(env),
      evidence: { approval_ids: ['\u{1F600}', '\uFF5E', 'a'].sort() },
    });
    expect(decodeBody(good).evidence).toEqual({ approval_ids: ['a', '\u{1F600}', '\uFF5E'] });
    expect(verifyReceipt(good, keys)).toMatchObject({ ok: true });
  });

  it('string lengths count UTF-16 code units (a non-BMP character counts 2), as RECEIPT_SCHEMA_VALIDATOR_OPTIONS tells ajv', () => {
    // tool: 1–256 code units. 128 × U+1F600 = 256 code units (ok); 129 = 258 code units (129 code points).
    const at = (tool: string) => verifyReceipt(forge({ ...decodeBody(env), tool }), keys);
    expect(at('\u{1F600}'.repeat(128))).toMatchObject({ ok: true });
    expect(at('\u{1F600}'.repeat(129))).toMatchObject({ ok: false, code: 'MALFORMED' });
  });
});

describe('phases: signature check over slices + sequential link', () => {
  it("passes role and the receipt's own trust_seq to the key lookup (a key valid only up to a seq)", () => {
    const chain = new ReceiptChain({ signer: signerA, chainId: 'chain-1' });
    // trust_seq 10, 10, 12, 13: the lookup sees the trust state each receipt committed to, not its lamport
    const rs = [10, 10, 12, 13].map((seq, i) => chain.mint(input(i + 1, { trust_seq: seq })));
    const seen: [string, string, number][] = [];
    const lookup = (keyid: string, role: string, seq: number) => {
      seen.push([keyid, role, seq]);
      return seq < 12 ? signerA.publicKey : undefined;
    };
    expect(verifyReceiptChain(envs(rs), { keys: lookup })).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      index: 2,
    });
    expect(seen).toStrictEqual([
      [signerA.keyId, RECEIPT_SIGNER_ROLE, 10],
      [signerA.keyId, RECEIPT_SIGNER_ROLE, 10],
      [signerA.keyId, RECEIPT_SIGNER_ROLE, 12],
    ]);
    const ok = verifyReceiptSignatures(envs(rs), keys);
    expect(ok.summaries.map((x) => [x.trust_seq, x.trust_head])).toStrictEqual(
      rs.map((r) => [r.body.trust_seq, r.body.trust_head]),
    );
  });

  it('a trust_seq that goes back along the chain is TRUST_SEQ_REGRESSION (after the link checks)', () => {
    // A signer that links correctly but claims an earlier trust state than its predecessor
    const rs = makeChain(2);
    const back = forge({
      ...(rs[1] as MintedReceipt).body,
      lamport: 3,
      prev_hash: rs[1]?.hash,
      trust_seq: 2,
    });
    const again = forge({
      ...(rs[1] as MintedReceipt).body,
      lamport: 3,
      prev_hash: rs[1]?.hash,
      trust_seq: 3,
    });
    const list = [...envs(rs), back];
    expect(verify(list)).toMatchObject({ ok: false, code: 'TRUST_SEQ_REGRESSION', index: 2 });
    expect(verify([...envs(rs), again])).toMatchObject({ ok: true, count: 3 });
    const parts = verifyReceiptSignatures(list, keys);
    expect(linkReceipts(parts.summaries)).toStrictEqual(verify(list));
    // a range continuing from a known head starts with no lower bound (the earlier trust_seq is unknown)
    expect(verify([back], { from: { chain_id: 'chain-1', lamport: 2, hash: rs[1]?.hash } })).toMatchObject({
      ok: true,
      count: 1,
    });
    // a broken link is still reported as such, before the trust state
    const gap = forge({ ...(rs[1] as MintedReceipt).body, lamport: 4, prev_hash: rs[1]?.hash, trust_seq: 2 });
    expect(verify([...envs(rs), gap])).toMatchObject({ ok: false, code: 'LAMPORT_GAP', index: 2 });
  });

  it('slices checked independently and linked give the same answer as the whole chain', () => {
    const rs = makeChain(9);
    const list = envs(rs);
    const parts = [
      verifyReceiptSignatures(list.slice(0, 4), keys, 0),
      verifyReceiptSignatures(list.slice(4), keys, 4),
    ];
    const summaries = parts.flatMap((p) => p.summaries);
    expect(linkReceipts(summaries)).toStrictEqual(verify(list));
  });

  it('a link failure before a signature failure wins; otherwise the signature failure is reported', () => {
    const rs = makeChain(6);
    const list = envs(rs);
    const broken = [...list];
    [broken[1], broken[2]] = [broken[2] as SignedEnvelope, broken[1] as SignedEnvelope];
    broken[4] = { ...(broken[4] as SignedEnvelope), signatures: [{ keyid: signerA.keyId, sig: 'AAAA' }] };
    const { summaries, failure } = verifyReceiptSignatures(broken, keys);
    expect(failure).toMatchObject({ code: 'SIGNATURE_INVALID', index: 4 });
    expect(linkReceipts(summaries, {}, failure)).toMatchObject({ code: 'CHAIN_BROKEN', index: 1 });
    const onlySig = [...list];
    onlySig[4] = broken[4] as SignedEnvelope;
    const p = verifyReceiptSignatures(onlySig, keys);
    expect(linkReceipts(p.summaries, {}, p.failure)).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
      index: 4,
    });
  });
});

describe('streaming verifyReceiptChain = linkReceipts(verifyReceiptSignatures(…))', () => {
  it('gives exactly the two-phase result for valid, reordered, dropped, duplicated, tampered and foreign sequences', () => {
    const rs = envs(makeChain(6));
    const other = envs(makeChain(3, 'chain-2'));
    const byB = envs(makeChain(2, 'chain-1', signerB));
    const tampered = reencode(rs[2] as SignedEnvelope, (b) => {
      b.tool = 'other';
    });
    const seqs: (readonly unknown[])[] = [
      [],
      rs,
      rs.slice(0, 3),
      [rs[1], rs[0], ...rs.slice(2)],
      [rs[0], rs[2], rs[3]],
      [rs[0], rs[1], rs[1], rs[2]],
      [rs[0], rs[1], rs[0]],
      [rs[0], rs[1], tampered, rs[3]],
      [rs[0], other[1], rs[2]],
      [rs[0], byB[1]],
      [rs[0], { not: 'an envelope' }, rs[2]],
      [null],
      [...rs.slice(0, 2), { ...(rs[2] as SignedEnvelope), signatures: [] }],
    ];
    const optionSets = [
      {},
      { chainId: 'chain-2' },
      { from: { chain_id: 'chain-1', lamport: 2, hash: (makeChain(2)[1] as MintedReceipt).hash } },
      { expectedHead: { chain_id: 'chain-1', lamport: 6, hash: (makeChain(6)[5] as MintedReceipt).hash } },
      { expectedHead: { chain_id: 'chain-1', lamport: 9, hash: d('x') } },
      { expectedHead: { chain_id: 'chain-9', lamport: 1, hash: d('x') } },
    ];
    let compared = 0;
    for (const seq of seqs) {
      for (const opts of optionSets) {
        for (const slice of [seq, seq.slice(2)]) {
          const { summaries, failure } = verifyReceiptSignatures(slice, keys);
          expect(verify(slice, opts)).toStrictEqual(linkReceipts(summaries, opts, failure));
          compared++;
        }
      }
    }
    expect(compared).toBe(seqs.length * optionSets.length * 2);
  });
});
