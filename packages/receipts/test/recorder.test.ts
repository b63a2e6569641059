import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  type GovernedCall,
  InMemoryReceiptStore,
  type ReceiptPolicy,
  ReceiptPolicySet,
  ReceiptRecorder,
  type ReceiptStore,
  type StoredReceipt,
  verifyReceiptChain,
} from '../src/index.ts';
import { d, decodeBody, keysOf, signerA, TRUST } from './helpers.ts';

const policies = new ReceiptPolicySet([
  {
    effect_class: 'fs.write',
    risk_tier: 'MEDIUM',
    require_idempotency_key: true,
    min_approvals: 0,
    required_evidence: ['idempotency_key'],
  },
  {
    effect_class: 'read',
    risk_tier: 'LOW',
    require_idempotency_key: false,
    min_approvals: 0,
    required_evidence: [],
  },
  {
    effect_class: 'payment.transfer',
    risk_tier: 'HIGH',
    require_idempotency_key: true,
    min_approvals: 2,
    required_evidence: ['ticket'],
  },
]);

function call(n: number, effect_class = 'fs.write'): GovernedCall {
  return {
    decision_id: d(`decision-${n}`),
    effect_id: d(`effect-${n}`),
    effect_class,
    args_hash: d(`args-${n}`),
    request_digest: d(`request-${n}`),
    session_id: null,
    policy_hash: d('policy'),
    tool: 'tool',
    principal: 'agent:alice',
    issued_at_ms: 1000 + n,
  };
}

class FlakyStore implements ReceiptStore {
  readonly inner = new InMemoryReceiptStore();
  failNext = 0;
  failHead = false;
  async append(r: StoredReceipt): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('disk full');
    }
    this.inner.append(r);
  }
  head(chainId: string) {
    if (this.failHead) throw new Error('offline');
    return this.inner.head(chainId);
  }
  range(chainId: string, a: number, b: number) {
    return this.inner.range(chainId, a, b);
  }
}

const keys = keysOf(signerA);

describe('ReceiptPolicySet', () => {
  it('denies an effect class without a policy (fail closed)', () => {
    expect(policies.admit('net.egress')).toMatchObject({ ok: false, reason_code: 'RECEIPT_POLICY_MISSING' });
  });

  it('checks idempotency keys and distinct approvals', () => {
    expect(policies.admit('fs.write')).toMatchObject({ ok: false, reason_code: 'RECEIPT_POLICY_VIOLATION' });
    expect(policies.admit('fs.write', { idempotency_key: '' })).toMatchObject({ ok: false });
    expect(policies.admit('fs.write', { idempotency_key: 'k1' })).toMatchObject({
      ok: true,
      evidence: { idempotency_key: 'k1' },
    });
    const pay = (ids: string[]) =>
      policies.admit('payment.transfer', { idempotency_key: 'k', approval_ids: ids });
    expect(pay(['a', 'a'])).toMatchObject({ ok: false, reason_code: 'RECEIPT_POLICY_VIOLATION' });
    expect(pay(['b', 'a'])).toMatchObject({ ok: true, evidence: { approval_ids: ['a', 'b'] } });
    expect(pay(['a', ''])).toMatchObject({ ok: false });
    expect(policies.admit('read', { approval_ids: ['x'] })).toMatchObject({
      ok: true,
      evidence: { approval_ids: ['x'] },
    });
  });

  it('rejects invalid or duplicate policies', () => {
    const base: ReceiptPolicy = {
      effect_class: 'read',
      risk_tier: 'LOW',
      require_idempotency_key: false,
      min_approvals: 0,
      required_evidence: [],
    };
    for (const bad of [
      { ...base, effect_class: 'READ' },
      { ...base, risk_tier: 'X' },
      { ...base, require_idempotency_key: 'yes' },
      { ...base, min_approvals: -1 },
      { ...base, required_evidence: 'x' },
      { ...base, required_evidence: ['Bad'] },
      null,
    ]) {
      expect(() => new ReceiptPolicySet([bad as ReceiptPolicy])).toThrow(
        expect.objectContaining({ code: 'POLICY_INVALID' }),
      );
    }
    expect(() => new ReceiptPolicySet([base, base])).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
  });
});

describe('ReceiptRecorder.finalize: no receipt, no output', () => {
  it('releases the output only after the receipt was appended, binding its hash', async () => {
    const store = new InMemoryReceiptStore();
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'c', store, policies, trust: () => TRUST });
    const admission = rec.admit('fs.write', { idempotency_key: 'k1' });
    const output = { written: 12 };
    const res = await rec.finalize(call(1), admission, output);
    expect(res.released).toBe(true);
    if (!res.released) return;
    expect(res.output).toBe(output);
    expect(res.receipt.body).toMatchObject({
      status: 'SUCCEEDED',
      verdict: 'ALLOW',
      risk_tier: 'MEDIUM',
      output_hash: digest(canonicalBytes(output)),
      evidence: { idempotency_key: 'k1' },
    });
    expect(store.range('c', 1, 10)).toStrictEqual([res.receipt.envelope]);
    expect(store.head('c')).toStrictEqual(rec.head);
  });

  it('withholds the output when the store append fails, and records the failure when it can', async () => {
    const store = new FlakyStore();
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'c', store, policies, trust: () => TRUST });
    store.failNext = 1;
    const res = await rec.finalize(call(1, 'read'), rec.admit('read'), { secret: 1 });
    expect(res).toMatchObject({ released: false, reason_code: 'RECEIPT_PERSIST_FAILED' });
    expect('output' in res).toBe(false);
    // The FAILED receipt about the persistence failure was stored (the second append succeeded).
    const stored = store.inner.range('c', 1, 5);
    expect(stored).toHaveLength(1);
    expect(decodeBody(stored[0] as SignedEnvelope)).toMatchObject({
      status: 'FAILED',
      reason_code: 'RECEIPT_PERSIST_FAILED',
      output_hash: null,
    });
    // When nothing can be stored at all, there is no receipt and no output.
    store.failNext = 2;
    const res2 = await rec.finalize(call(2, 'read'), rec.admit('read'), { secret: 2 });
    expect(res2).toMatchObject({ released: false, reason_code: 'RECEIPT_PERSIST_FAILED' });
    expect('receipt' in res2).toBe(false);
    expect('output' in res2).toBe(false);
    expect(store.inner.range('c', 1, 5)).toHaveLength(1);
    // The chain continues without a gap afterwards.
    const ok = await rec.finalize(call(3, 'read'), rec.admit('read'), 'fine');
    expect(ok.released).toBe(true);
    expect(verifyReceiptChain(store.inner.range('c', 1, 10), { keys })).toMatchObject({ ok: true, count: 2 });
  });

  it('denies and records when the policy is missing, the admission failed or evidence is missing', async () => {
    const store = new InMemoryReceiptStore();
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'c', store, policies, trust: () => TRUST });
    const missing = await rec.finalize(call(1, 'net.egress'), rec.admit('net.egress'), 'out');
    expect(missing).toMatchObject({ released: false, reason_code: 'RECEIPT_POLICY_MISSING' });
    if (!missing.released)
      expect(missing.receipt?.body).toMatchObject({ status: 'DENIED', risk_tier: 'HIGH' });
    // An admission for another class cannot be replayed for this one.
    const wrong = await rec.finalize(call(2, 'net.egress'), rec.admit('read'), 'out');
    expect(wrong).toMatchObject({ released: false, reason_code: 'RECEIPT_POLICY_MISSING' });
    const pay = rec.admit('payment.transfer', { idempotency_key: 'k', approval_ids: ['a', 'b'] });
    const noTicket = await rec.finalize(call(3, 'payment.transfer'), pay, 'out');
    expect(noTicket).toMatchObject({ released: false, reason_code: 'RECEIPT_POLICY_VIOLATION' });
    if (!noTicket.released)
      expect(noTicket.receipt?.body).toMatchObject({ status: 'FAILED', risk_tier: 'HIGH' });
    const withTicket = await rec.finalize(call(4, 'payment.transfer'), pay, 'out', { ticket: 'T-1' });
    expect(withTicket.released).toBe(true);
    const notJson = await rec.finalize(call(5, 'read'), rec.admit('read'), { n: Number.NaN });
    expect(notJson).toMatchObject({ released: false, reason_code: 'DRIVER_ERROR' });
    expect(verifyReceiptChain(store.range('c', 1, 10), { keys })).toMatchObject({ ok: true, count: 5 });
  });

  it('records denials (every governed call gets a receipt) and reports persistence failure', async () => {
    const store = new FlakyStore();
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'c', store, policies, trust: () => TRUST });
    const r = await rec.recordDenial({
      ...call(1, 'read'),
      status: 'DENIED',
      verdict: 'DENY',
      reason_code: 'GATE_FROZEN',
    });
    expect(r.persisted).toBe(true);
    if (r.persisted) expect(r.receipt.body).toMatchObject({ reason_code: 'GATE_FROZEN', risk_tier: 'LOW' });
    store.failNext = 1;
    const f = await rec.recordDenial({
      ...call(2),
      status: 'ESCALATED',
      verdict: 'ESCALATE',
      reason_code: 'APPROVAL_REQUIRED',
      risk_tier: 'LOW',
      evidence: { x: 'y' },
    });
    expect(f).toMatchObject({ persisted: false });
    const bad = await rec.recordDenial({
      ...call(3),
      status: 'DENIED',
      verdict: 'DENY',
      reason_code: 'ALLOW',
    });
    expect(bad).toMatchObject({ persisted: false });
  });

  it('serializes concurrent calls into one valid chain', async () => {
    const store = new InMemoryReceiptStore();
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'c', store, policies, trust: () => TRUST });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rec.finalize(call(i, 'read'), rec.admit('read'), { i })),
    );
    expect(results.every((r) => r.released)).toBe(true);
    expect(verifyReceiptChain(store.range('c', 1, 100), { keys })).toMatchObject({ ok: true, count: 20 });
  });

  it('reopens from the store head, and resynchronizes when another writer moved it', async () => {
    const store = new FlakyStore();
    const a = await ReceiptRecorder.open({
      signer: signerA,
      chainId: 'c',
      store,
      policies,
      trust: () => TRUST,
    });
    await a.finalize(call(1, 'read'), a.admit('read'), 1);
    const b = await ReceiptRecorder.open({
      signer: signerA,
      chainId: 'c',
      store,
      policies,
      trust: () => TRUST,
    });
    expect(b.head).toStrictEqual(a.head);
    await b.finalize(call(2, 'read'), b.admit('read'), 2);
    // a is now stale: its append conflicts, the output is withheld, a adopts the store head.
    const stale = await a.finalize(call(3, 'read'), a.admit('read'), 3);
    expect(stale.released).toBe(false);
    const after = await a.finalize(call(4, 'read'), a.admit('read'), 4);
    expect(after.released).toBe(true);
    expect(verifyReceiptChain(store.inner.range('c', 1, 10), { keys })).toMatchObject({ ok: true });
    // A store that cannot even report its head: stay put, still fail closed.
    store.failHead = true;
    store.failNext = 5;
    expect((await a.finalize(call(5, 'read'), a.admit('read'), 5)).released).toBe(false);
    const fresh = await ReceiptRecorder.open({
      signer: signerA,
      chainId: 'z',
      store: new InMemoryReceiptStore(),
      policies,
      trust: () => TRUST,
    });
    expect(fresh.head.lamport).toBe(0);
  });

  it('the in-memory store refuses appends that do not extend its head', () => {
    const store = new InMemoryReceiptStore();
    const r: StoredReceipt = {
      chain_id: 'c',
      lamport: 2,
      receipt_id: d('r'),
      hash: d('h'),
      prev_hash: d('p'),
      envelope: { type: 'helm.receipt.v1', payload: '', signatures: [] },
    };
    expect(() => store.append(r)).toThrow(expect.objectContaining({ code: 'STORE_CONFLICT' }));
    expect(store.head('c')).toBeUndefined();
    expect(store.range('c', 1, 3)).toStrictEqual([]);
  });

  it('the in-memory store keeps chains apart and answers head and range by lamport', () => {
    const store = new InMemoryReceiptStore();
    const envelope = (n: number) => ({ type: 'helm.receipt.v1', payload: `p${n}`, signatures: [] });
    const append = (chain: string, lamport: number, prev: string, hash: string) =>
      store.append({
        chain_id: chain,
        lamport,
        receipt_id: d(`id${lamport}`),
        hash,
        prev_hash: prev,
        envelope: envelope(lamport),
      });
    const genesis = `sha256:${'0'.repeat(64)}`;
    append('a', 1, genesis, d('a1'));
    append('a', 2, d('a1'), d('a2'));
    append('b', 1, genesis, d('b1'));
    // a replayed, reordered or forked append never lands
    for (const [lamport, prev] of [
      [2, d('a1')],
      [4, d('a2')],
      [3, d('b1')],
      [1, genesis],
    ] as const) {
      expect(() => append('a', lamport, prev, d('x'))).toThrow(
        expect.objectContaining({ code: 'STORE_CONFLICT' }),
      );
    }
    expect(store.head('a')).toStrictEqual({ chain_id: 'a', lamport: 2, hash: d('a2') });
    expect(store.head('b')).toStrictEqual({ chain_id: 'b', lamport: 1, hash: d('b1') });
    expect(store.range('a', 1, 2)).toStrictEqual([envelope(1), envelope(2)]);
    expect(store.range('a', 2, 99)).toStrictEqual([envelope(2)]);
    expect(store.range('a', 0, 1)).toStrictEqual([envelope(1)]);
    expect(store.range('b', 1, 1)).toStrictEqual([envelope(1)]);
  });
});

describe('ReceiptRecorder: the trust port', () => {
  it('every receipt commits to the trust state read at mint time, in call order', async () => {
    const store = new InMemoryReceiptStore();
    let position = { seq: 4, head: d('head-4') };
    const rec = new ReceiptRecorder({
      signer: signerA,
      chainId: 't',
      store,
      policies,
      trust: () => position,
    });
    const first = rec.recordDenial({
      ...call(1, 'read'),
      status: 'DENIED',
      verdict: 'DENY',
      reason_code: 'POLICY_DENY',
    });
    // a registry event between two calls: the next receipt commits to the new state
    position = { seq: 5, head: d('head-5') };
    const second = rec.finalize(call(2, 'read'), rec.admit('read'), { ok: true });
    const a = await first;
    const b = await second;
    if (!a.persisted || !b.released) throw new Error('not recorded');
    expect(decodeBody(a.receipt.envelope)).toMatchObject({ trust_seq: 5, trust_head: d('head-5') });
    expect(decodeBody(b.receipt.envelope)).toMatchObject({
      trust_seq: 5,
      trust_head: d('head-5'),
      request_digest: d('request-2'),
    });
    const lookups: number[] = [];
    const keys = (keyid: string, _role: string, seq: number) => {
      lookups.push(seq);
      return keysOf(signerA)(keyid);
    };
    expect(verifyReceiptChain(store.range('t', 1, 2), { keys })).toMatchObject({ ok: true, count: 2 });
    expect(lookups).toEqual([5, 5]);
  });

  it('refuses to mint a receipt whose trust state goes back, also after reopening the store', async () => {
    const store = new InMemoryReceiptStore();
    let position = { seq: 7, head: d('head-7') };
    const trust = () => position;
    const rec = new ReceiptRecorder({ signer: signerA, chainId: 'r', store, policies, trust });
    const deny = (n: number) => ({
      ...call(n, 'read'),
      status: 'DENIED' as const,
      verdict: 'DENY' as const,
      reason_code: 'POLICY_DENY' as const,
    });
    expect((await rec.recordDenial(deny(1))).persisted).toBe(true);
    position = { seq: 6, head: d('head-6') };
    const back = await rec.recordDenial(deny(2));
    expect(back.persisted).toBe(false);
    if (!back.persisted) expect(back.detail).toMatch(/trust_seq 6 is below/);
    expect(rec.head.lamport).toBe(1);
    const reopened = await ReceiptRecorder.open({ signer: signerA, chainId: 'r', store, policies, trust });
    expect((await reopened.recordDenial(deny(2))).persisted).toBe(false);
    position = { seq: 7, head: d('head-7') };
    expect((await reopened.recordDenial(deny(2))).persisted).toBe(true);
  });

  it('a throwing or lying trust port withholds the receipt (fail closed); the port is required', async () => {
    const store = new InMemoryReceiptStore();
    let answer: () => { seq: number; head: string } = () => {
      throw new Error('registry unavailable');
    };
    const rec = new ReceiptRecorder({
      signer: signerA,
      chainId: 'f',
      store,
      policies,
      trust: () => answer(),
    });
    const r = await rec.finalize(call(1, 'read'), rec.admit('read'), 1);
    expect(r.released).toBe(false);
    expect(store.head('f')).toBeUndefined();
    answer = () => ({ seq: 0, head: d('x') });
    expect((await rec.finalize(call(1, 'read'), rec.admit('read'), 1)).released).toBe(false);
    answer = () => ({ seq: 1, head: 'not a digest' });
    expect((await rec.finalize(call(1, 'read'), rec.admit('read'), 1)).released).toBe(false);
    expect(store.head('f')).toBeUndefined();
    expect(() => new ReceiptRecorder({ signer: signerA, chainId: 'f', store, policies } as never)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_INPUT_INVALID' }),
    );
  });
});
