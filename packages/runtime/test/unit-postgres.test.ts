// The runtime's per-call commit path (src/internal/unit.ts: AdmissionBatcher, receiptCommitter,
// CommitSequencer) over the async store port on a real PostgreSQL server (fresh database for this
// file; HELM_TEST_DATABASE_URL overrides; no server = failure). These are the pieces that make a
// call durable before anything is released (I-CONC-1): here they run against a networked store
// whose transactions complete asynchronously, where a second batch written while the first is in
// flight could reach the chain out of Lamport order.
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChainState, GENESIS, makeCall, verifyChain } from '../../store/test/fixtures/chain.ts';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { RuntimeError } from '../src/errors.ts';
import { AdmissionBatcher, CommitSequencer, receiptCommitter } from '../src/internal/unit.ts';

const db = await createTestDatabase('rt_unit');
afterAll(() => db.drop());

const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function open(nodeId: string, schema: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: db.url, nodeId, schema, groupCommit: false });
  opened.push(s);
  return s;
}

/** Receipts 1..n of one chain, minted ahead (as the recorder mints them in decision order). */
function mint(n: number, chainId: string): ReturnType<typeof makeCall>[] {
  const st: ChainState = { lamport: 0, hash: GENESIS };
  return Array.from({ length: n }, (_, i) => {
    const call = makeCall(st, chainId, i, chainId);
    const { budget: _budget, ...rest } = call;
    return rest;
  });
}

/** A fixed permutation: calls finish in an order unrelated to their Lamports. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out: T[] = [];
  for (let j = 0; j < xs.length; j++) out.push(xs[(j * 37) % xs.length] as T);
  return out;
}

describe('I-CONC-1 the runtime commit path on PostgreSQL', () => {
  it('64 calls in flight: admissions batched, receipts committed in Lamport order whatever order calls finish in', async () => {
    const store = await open('node-a', 'unit_order');
    const chain = 'pg-conc';
    const calls = mint(64, chain);
    const batcher = new AdmissionBatcher(store);
    const sequencer = new CommitSequencer(receiptCommitter(store), 0);
    const drawn: string[] = [];
    // Every call: admitted (its reservation drawn when its admission is written), then — after a
    // delay unrelated to its Lamport — its receipt is submitted with the admission it closes.
    const results = await Promise.all(
      shuffled(calls).map(async (call, i) => {
        const id = `adm-${call.receipt.lamport}`;
        const reservation = `res-${call.receipt.lamport}`;
        await batcher.admit({
          admission: { id, chainId: chain, sessionId: chain, reservationId: reservation, body: { i } },
          ledger: () => {
            drawn.push(reservation);
            return [
              { op: 'reserve', id: reservation, charges: [{ account: 'acct', ceiling: 64 }], amount: 1 },
            ];
          },
        });
        await new Promise((r) => setTimeout(r, (i * 7) % 11));
        return sequencer.submit({
          record: { ...call, admissionId: id },
          ledger: () => [{ op: 'commit', id: reservation }],
        });
      }),
    );
    expect(sequencer.halted).toBeUndefined();
    expect(results.map((r) => r.lamport).sort((a, b) => a - b)).toEqual(calls.map((c) => c.receipt.lamport));
    expect(drawn).toHaveLength(64);
    // Group commit: the 64 admissions shared transactions.
    expect(batcher.flushes).toBeLessThan(64);
    const other = await open('node-b', 'unit_order');
    const stored = await other.receipts({ chainId: chain });
    expect(verifyChain(stored)).toBe(64);
    expect(await other.admissions()).toEqual([]);
    expect(await other.ledgerState('acct')).toEqual({ spent: 64, reserved: 0 });
  });

  it('a receipt transaction that fails halts the runtime: nothing after it is committed or released (RUNTIME_HALTED)', async () => {
    const store = await open('node-a', 'unit_halt');
    const chain = 'pg-halt';
    const calls = mint(10, chain);
    const sequencer = new CommitSequencer(receiptCommitter(store), 0);
    for (const c of calls.slice(0, 4)) await sequencer.submit({ record: c, ledger: () => [] });
    // Another writer takes Lamport 5 of this chain first (a forked receipt: another key, another hash).
    const intruder = await open('node-b', 'unit_halt');
    const forged = makeCall({ lamport: 4, hash: calls[3]?.receipt.hash as string }, 'intruder', 99, chain);
    await intruder.commitCall({ ...forged, sessionId: chain });
    const later = calls.slice(4).map((c) => sequencer.submit({ record: c, ledger: () => [] }));
    const settled = await Promise.allSettled(later);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(sequencer.halted).toBeInstanceOf(RuntimeError);
    expect(sequencer.halted?.code).toBe('RUNTIME_HALTED');
    // Every later call is refused; the store holds 1..4 and the intruder's 5, nothing of ours after.
    await expect(sequencer.submit({ record: calls[9] as never, ledger: () => [] })).rejects.toMatchObject({
      code: 'RUNTIME_HALTED',
    });
    const stored = await intruder.receipts({ chainId: chain });
    expect(stored.map((r) => r.lamport)).toEqual([1, 2, 3, 4, 5]);
    expect(stored.slice(0, 4).map((r) => r.hash)).toEqual(calls.slice(0, 4).map((c) => c.receipt.hash));
    expect(stored[4]?.hash).toBe(forged.receipt.hash);
  });

  it('a store that is unreachable fails the admission before any driver could run', async () => {
    const store = await open('node-a', 'unit_down');
    const batcher = new AdmissionBatcher(store);
    await store.close();
    await expect(
      batcher.admit({ admission: { id: 'a', chainId: 'c', sessionId: 'c', body: {} } }),
    ).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
