// The SQLite adapters plugged into the real TCB components: ReceiptRecorder (receipts),
// ProofGraph (nodes), the guardian's nonce port and the executor's idempotency port.
import { createSigner } from '@helm/crypto';
import { ProofGraph, validateGraph } from '@helm/proofgraph';
import { ReceiptChain, verifyReceiptChain } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  budgetLedgerPort,
  idempotencyStorePort,
  nodeStorePort,
  nonceStorePort,
  openSqliteStore,
  receiptStorePort,
  StoreError,
} from '../src/index.ts';

const signer = createSigner(new Uint8Array(32).fill(5));
const keys = (keyid: string) => (keyid === signer.keyId ? signer.publicKey : undefined);

describe('TCB store ports on SQLite', () => {
  it('receipts: compare-and-append, head and range; the chain verifies from storage', () => {
    const store = openSqliteStore(':memory:');
    const port = receiptStorePort(store);
    const chain = new ReceiptChain({ signer, chainId: 'c1' });
    for (let i = 0; i < 5; i++) {
      const m = chain.prepare({
        decision_id: `sha256:${String(i).padStart(64, '0')}`,
        effect_id: null,
        effect_class: 'read',
        status: 'DENIED',
        verdict: 'DENY',
        reason_code: 'POLICY_DENY',
        args_hash: null,
        request_digest: null,
        output_hash: null,
        session_id: null,
        policy_hash: `sha256:${'a'.repeat(64)}`,
        tool: 't',
        principal: 'p',
        risk_tier: 'LOW',
        issued_at_ms: i,
        trust_seq: 1,
        trust_head: `sha256:${'b'.repeat(64)}`,
      });
      port.append({
        chain_id: 'c1',
        lamport: m.body.lamport,
        receipt_id: m.body.receipt_id,
        hash: m.hash,
        prev_hash: m.body.prev_hash,
        envelope: m.envelope,
      });
      chain.commit(m);
      if (i === 2) {
        // A stale writer (same Lamport again) is refused.
        expect(() =>
          port.append({
            chain_id: 'c1',
            lamport: 3,
            receipt_id: 'x',
            hash: 'h',
            prev_hash: m.body.prev_hash,
            envelope: m.envelope,
          }),
        ).toThrow(StoreError);
      }
    }
    expect(port.head('c1')).toEqual({ chain_id: 'c1', lamport: 5, hash: chain.head.hash });
    expect(port.head('none')).toBeUndefined();
    expect(port.range('c1', 2, 3)).toHaveLength(2);
    const v = verifyReceiptChain(port.range('c1', 1, 5), { keys: (k) => keys(k), chainId: 'c1' });
    expect(v).toMatchObject({ ok: true, count: 5 });
    store.closeSync();
  });

  it('nodes: a ProofGraph persisted in SQLite validates, reloads and keeps its heads', () => {
    const store = openSqliteStore(':memory:');
    const graph = new ProofGraph(nodeStorePort(store));
    const a = graph.append(
      { kind: 'INTENT', parents: [], principal: 'p', payload: { a: 1 }, issued_at_ms: 1 },
      signer,
    );
    const b = graph.append(
      { kind: 'EFFECT', parents: [a.hash], principal: 'p', payload: { b: 2 }, issued_at_ms: 2 },
      signer,
    );
    const c = graph.append(
      { kind: 'EFFECT', parents: [a.hash], principal: 'p', payload: { c: 3 }, issued_at_ms: 3 },
      signer,
    );
    const port = nodeStorePort(store);
    expect(port.size).toBe(3);
    expect(port.heads()).toEqual([b.hash, c.hash].sort());
    expect(port.get(a.hash)?.body.kind).toBe('INTENT');
    expect(port.get('sha256:none')).toBeUndefined();
    const nodes = port.rangeByLamport(1, 10);
    expect(nodes.map((n) => n.hash)).toEqual([a.hash, ...[b.hash, c.hash].sort()]);
    const ok = validateGraph(
      nodes.map((n) => ({ envelope: n.envelope, payload: { value: n.payload } })),
      { keys: (k) => keys(k) },
    );
    expect(ok).toMatchObject({ ok: true, count: 3 });
    expect(() => port.append(b)).toThrow(StoreError);
    expect(() =>
      port.append({ ...b, hash: 'sha256:orphan', body: { ...b.body, parents: ['sha256:missing'] } }),
    ).toThrow(StoreError);
    const bare = port.get(a.hash);
    if (!bare) throw new Error('missing');
    port.append({ hash: 'sha256:bare', body: { ...bare.body, parents: [] }, envelope: bare.envelope });
    expect(port.get('sha256:bare')?.payload).toBeUndefined();
    store.closeSync();
  });

  it('nonces and idempotency', () => {
    const store = openSqliteStore(':memory:');
    const nonces = nonceStorePort(store, 'delegation');
    expect(nonces.has('n1')).toBe(false);
    expect(nonces.consume('n1')).toBe(true);
    expect(nonces.consume('n1')).toBe(false);
    expect(nonces.has('n1')).toBe(true);
    const idem = idempotencyStorePort<{ key: string; receipt_hash: string; output: number }>(store);
    expect(idem.get('k')).toBeUndefined();
    idem.put({ key: 'k', receipt_hash: 'sha256:r', output: 1 });
    idem.put({ key: 'k', receipt_hash: 'sha256:r2', output: 2 }); // first writer wins
    expect(idem.get('k')).toEqual({ key: 'k', receipt_hash: 'sha256:r', output: 1 });
    store.closeSync();
  });
});

describe('budget ledger on SQLite', () => {
  it('reserves atomically on every account, commits, refunds, and survives a reopen', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'helm-ledger-'));
    const path = join(dir, 'l.db');
    let store = openSqliteStore(path);
    let ledger = budgetLedgerPort(store);
    const charges = [
      { account: 'principal:alice', ceiling: 10 },
      { account: 'tenant:acme', ceiling: 15 },
    ];
    const a = ledger.reserve(charges, 6);
    expect(a).toBe('budget-res-1');
    expect(ledger.reserve(charges, 5)).toBeNull(); // alice would reach 11 > 10: nothing reserved
    expect(ledger.state('tenant:acme')).toEqual({ spent: 0, reserved: 6 });
    ledger.commit(a as string);
    const b = ledger.reserve([{ account: 'tenant:acme', ceiling: 15 }], 4) as string;
    ledger.refund(b);
    expect(() => ledger.commit(b)).toThrow(StoreError);
    expect(() => ledger.reserve(charges, -1)).toThrow(StoreError);
    store.closeSync();
    store = openSqliteStore(path);
    ledger = budgetLedgerPort(store);
    expect(ledger.state('principal:alice')).toEqual({ spent: 6, reserved: 0 });
    expect(ledger.state('tenant:acme')).toEqual({ spent: 6, reserved: 0 });
    expect(ledger.state('nobody')).toEqual({ spent: 0, reserved: 0 });
    expect(ledger.reserve(charges, 1)).toBe('budget-res-3');
    store.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });
});
