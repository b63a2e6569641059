import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type GovernedCallRecord,
  GroupCommitter,
  openSqliteStore,
  SCHEMA_VERSION,
  StoreError,
} from '../src/index.ts';
import { type ChainState, GENESIS, makeCall, verifyChain } from './fixtures/chain.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
const dir = mkdtempSync(join(tmpdir(), 'helm-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof StoreError && e.code === code);
}

describe('SqliteStore', () => {
  it('migrates idempotently and records the schema version', async () => {
    const path = join(dir, 'm.db');
    const s = openSqliteStore(path);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await s.migrate()).toBe(0);
    await s.close();
    const again = openSqliteStore(path);
    expect(again.migrateSync()).toBe(0);
    again.closeSync();
    again.closeSync(); // closing twice is harmless
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'newer.db');
    openSqliteStore(path).closeSync();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(
      SCHEMA_VERSION + 1,
      'future',
    );
    db.close();
    expect(() => openSqliteStore(path)).toThrow(
      expect.objectContaining({ code: 'STORE_UNSUPPORTED_VERSION' }) as unknown as Error,
    );
  });

  it('reports an unusable path as STORE_IO', () => {
    writeFileSync(join(dir, 'plain-file'), 'x');
    expect(() => openSqliteStore(join(dir, 'plain-file', 'x.db'))).toThrow(StoreError);
  });

  it('commits a governed call atomically with all its parts', async () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const st = fresh();
    const call = makeCall(st, 's1', 0);
    expect(await s.commitCall(call)).toEqual({ receiptId: call.receipt.id, lamport: 1 });
    expect((await s.chainHead())?.hash).toBe(call.receipt.hash);
    expect(await s.idempotency(call.idempotency?.key ?? '')).toEqual({ receipt: call.receipt.id });
    expect(await s.idempotency('nope')).toBeUndefined();
    expect(await s.budgetBalance('budget:s1')).toBe(1);
    expect((await s.nodes({ sessionId: 's1' })).map((n) => n.id)).toEqual([`n-${call.receipt.id}`]);
    expect((await s.requests({ sessionId: 's1' }))[0]?.body).toEqual({ i: 0, clock_ms: 1_700_000_000_000 });
    expect(await s.sessions()).toEqual(['s1']);
    expect((await s.decisions(['nope', call.decision?.id ?? ''])).length).toBe(1);
    await s.close();
  });

  it('rejects a call that does not extend the chain and writes none of it', async () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const st = fresh();
    await s.commitCall(makeCall(st, 's', 0));
    const wrongLamport = makeCall({ lamport: 5, hash: st.hash }, 's', 1);
    await rejectsWith(s.commitCall(wrongLamport), 'STORE_CHAIN_CONFLICT');
    const wrongLink = makeCall({ lamport: 1, hash: GENESIS }, 's', 1);
    await rejectsWith(s.commitCall(wrongLink), 'STORE_CHAIN_CONFLICT');
    expect((await s.receipts()).length).toBe(1);
    expect((await s.nodes()).length).toBe(1);
    expect(await s.budgetBalance('budget:s')).toBe(1);
    await s.close();
  });

  it('rolls back the whole call on a duplicate node, idempotency key, reused nonce or budget overrun', async () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const st = fresh();
    const first = makeCall(st, 's', 0);
    await s.commitCall({ ...first, nonces: [{ scope: 'deleg', nonce: 'n1' }] });
    const base = (): GovernedCallRecord => makeCall({ ...st }, 's', 1);
    await rejectsWith(s.commitCall({ ...base(), nodes: first.nodes ?? [] }), 'STORE_DUPLICATE');
    await rejectsWith(
      s.commitCall({ ...base(), idempotency: { key: first.idempotency?.key ?? '', value: 1 } }),
      'STORE_IDEMPOTENCY_CONFLICT',
    );
    await rejectsWith(
      s.commitCall({ ...base(), nonces: [{ scope: 'deleg', nonce: 'n1' }] }),
      'STORE_NONCE_REUSED',
    );
    await rejectsWith(
      s.commitCall({ ...base(), budget: [{ key: 'budget:s', delta: 5, limit: 3 }] }),
      'STORE_BUDGET_EXCEEDED',
    );
    await rejectsWith(s.commitCall({ ...base(), sessionId: '' }), 'STORE_INVALID_RECORD');
    await rejectsWith(
      s.commitCall({ ...base(), budget: [{ key: 'b', delta: 0.5 }] }),
      'STORE_INVALID_RECORD',
    );
    expect((await s.receipts()).length).toBe(1);
    expect(await s.budgetBalance('budget:s')).toBe(1);
    expect(await s.nonceUsed('deleg', 'n1')).toBe(true);
    // The chain still continues normally.
    await s.commitCall(makeCall(st, 's', 1));
    expect(verifyChain(await s.receipts())).toBe(2);
    await s.close();
  });

  it('group commit: one transaction for many calls; a failing call does not take its batch down', async () => {
    const s = openSqliteStore(':memory:', { maxBatch: 64 });
    const st = fresh();
    const calls = Array.from({ length: 40 }, (_, i) => makeCall(st, 'g', i));
    const bad = makeCall({ lamport: 99, hash: GENESIS }, 'g', 999);
    const results = await Promise.allSettled(
      [...calls.slice(0, 20), bad, ...calls.slice(20)].map((c) => s.commitCall(c)),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(40);
    expect(results[20]?.status).toBe('rejected');
    expect(s.groupFlushes).toBe(1);
    expect(verifyChain(await s.receipts())).toBe(40);
    const batch = await s.commitCalls([makeCall(st, 'g', 40), makeCall(fresh(), 'g', 41)]);
    expect(batch[0]).toEqual({ receiptId: 'r-g-41', lamport: 41 });
    expect(batch[1]).toBeInstanceOf(StoreError);
    await s.close();
    await expect(s.commitCall(makeCall(st, 'g', 42))).rejects.toBeInstanceOf(StoreError);
  });

  it('selects receipts and requests by session, chain and Lamport range', async () => {
    const s = openSqliteStore(':memory:');
    const a = fresh();
    const b = fresh();
    for (let i = 0; i < 5; i++) {
      await s.commitCall(makeCall(a, 'A', i));
      await s.commitCall(makeCall(b, 'B', i, 'other'));
    }
    expect((await s.receipts({ sessionId: 'A' })).map((r) => r.lamport)).toEqual([1, 2, 3, 4, 5]);
    expect((await s.receipts({ chainId: 'other', fromLamport: 2, toLamport: 3 })).map((r) => r.id)).toEqual([
      'r-B-2',
      'r-B-3',
    ]);
    expect((await s.requests({ sessionId: 'B', fromLamport: 5 })).length).toBe(1);
    expect((await s.chainHead('other'))?.lamport).toBe(5);
    expect(await s.chainHead('none')).toBeUndefined();
    await s.close();
  });

  it('stores content-addressed artifacts, session links, documents and nonces', async () => {
    const s = openSqliteStore(join(dir, 'a.db'));
    const bytes = new TextEncoder().encode('{"policy":1}');
    const d = await s.putArtifact({ kind: 'policy', name: 'default', version: '1', bytes });
    expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await s.putArtifact({ kind: 'policy', name: 'default', version: '1', bytes })).toBe(d);
    expect((await s.artifact(d))?.bytes).toEqual(bytes);
    expect(await s.artifact('sha256:00')).toBeUndefined();
    await s.putArtifact({ kind: 'schema', name: 'x', version: '1', bytes: new Uint8Array([1]) });
    expect((await s.artifacts()).length).toBe(2);
    expect((await s.artifacts({ kind: 'policy' })).length).toBe(1);
    await s.linkArtifact('sess', d);
    await s.linkArtifact('sess', d);
    expect((await s.sessionArtifacts('sess')).map((x) => x.digest)).toEqual([d]);
    await expect(s.linkArtifact('sess', 'sha256:nope')).rejects.toBeInstanceOf(StoreError);
    await s.putDocument('keys', 'k1', { role: 'receipt' });
    await s.putDocument('keys', 'k1', { role: 'receipt', revoked: true });
    await s.putDocument('keys', 'k0', 1);
    expect(await s.getDocument('keys', 'k1')).toEqual({ role: 'receipt', revoked: true });
    expect(await s.getDocument('keys', 'none')).toBeUndefined();
    expect((await s.listDocuments('keys')).map((x) => x.key)).toEqual(['k0', 'k1']);
    expect(await s.consumeNonce('x', '1')).toBe(true);
    expect(await s.consumeNonce('x', '1')).toBe(false);
    expect(await s.nonceUsed('x', '2')).toBe(false);
    await s.close();
  });
});

describe('GroupCommitter', () => {
  it('flushes at maxBatch and rejects every item when the flush throws', async () => {
    let calls = 0;
    const g = new GroupCommitter<number, number>(
      (items) => {
        calls += 1;
        if (items.includes(-1)) throw new Error('boom');
        return items.map((x) => (x === 0 ? new Error('zero') : x * 2));
      },
      { maxBatch: 2 },
    );
    const ps = [g.submit(1), g.submit(2), g.submit(3)];
    expect(g.pending).toBe(1);
    expect(await Promise.all(ps)).toEqual([2, 4, 6]);
    expect(calls).toBe(2);
    await expect(g.submit(0)).rejects.toThrow('zero');
    await expect(g.submit(-1)).rejects.toThrow('boom');
  });

  it('runs an asynchronous flush one batch at a time, in submission order', async () => {
    // A networked store's flush is asynchronous: a second batch written while the first is in
    // flight could reach the store first and put a chain's receipts out of Lamport order.
    const written: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const g = new GroupCommitter<number, number>(async (items) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      written.push([...items]);
      inFlight -= 1;
      if (items.includes(-1)) throw new Error('boom');
      return items.map((x) => (x === 0 ? new Error('zero') : x * 2));
    });
    const first = [g.submit(1), g.submit(2)];
    await new Promise((r) => setImmediate(r)); // the first batch is now in flight
    const second = [g.submit(3), g.submit(0), g.submit(4)];
    // queued behind the batch in flight: written only after it settled, as one batch
    const settled = Promise.allSettled(second);
    await expect(Promise.all(first)).resolves.toEqual([2, 4]);
    const [a, b, c] = await settled;
    expect(a).toEqual({ status: 'fulfilled', value: 6 });
    expect(b.status).toBe('rejected');
    expect(c).toEqual({ status: 'fulfilled', value: 8 });
    await expect(g.submit(-1)).rejects.toThrow('boom');
    await g.idle();
    expect(maxInFlight).toBe(1);
    expect(written).toEqual([[1, 2], [3, 0, 4], [-1]]);
    expect(g.flushes).toBe(3);
  });
});
