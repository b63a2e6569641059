// Several runtime nodes on one database: each "node" is a PostgresStore with its own connection
// pool and node id, racing through the store API as separate processes would. Real node
// processes, SIGKILL and pg_terminate_backend mid-burst: multiprocess.test.ts.
import { StoreError } from '@helm/store';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChainState, GENESIS, makeCall, verifyChain } from '../../store/test/fixtures/chain.ts';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

const db = await createTestDatabase('multinode');
afterAll(() => db.drop());

const open: PostgresStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
let n = 0;
/** `count` nodes on a fresh schema, each with its own pool. */
async function nodes(count: number, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore[]> {
  const schema = `m${++n}`;
  const out: PostgresStore[] = [];
  for (let i = 0; i < count; i++) {
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: `node-${i}`,
      schema,
      poolSize: 4,
      ...options,
    });
    open.push(s);
    out.push(s);
  }
  return out;
}
async function node(
  schema: string,
  nodeId: string,
  options: Partial<PostgresStoreOptions> = {},
): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: db.url, nodeId, schema, ...options });
  open.push(s);
  return s;
}

const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });
const codeOf = (r: PromiseSettledResult<unknown>): string =>
  r.status === 'fulfilled' ? 'ok' : r.reason instanceof StoreError ? r.reason.code : 'other';

/** Wait (on the database's clock) until every lease `nodeId` holds in `schema` has run out. */
async function leasesExpire(schema: string, nodeId: string): Promise<void> {
  const c = await raw(db.url);
  try {
    for (;;) {
      const { rows } = await c.query(
        `SELECT (SELECT count(*) FROM ${schema}.admissions WHERE node_id = $1 AND lease_until >= clock_timestamp())
              + (SELECT count(*) FROM ${schema}.ledger_reservations WHERE node_id = $1 AND lease_until >= clock_timestamp()) AS live`,
        [nodeId],
      );
      if (Number(rows[0].live) === 0) return;
      await c.query('SELECT pg_sleep(0.005)');
    }
  } finally {
    await c.end();
  }
}

describe('I-MULTINODE-1: chains', () => {
  it('2 nodes × 32 concurrent commits on ONE chain head: one winner per Lamport, no fork, contiguous', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    for (let round = 0; round < 3; round++) {
      const head = await a.chainHead('shared');
      const base = { lamport: head?.lamport ?? 0, hash: head?.hash ?? GENESIS };
      const attempts = Array.from({ length: 64 }, (_, i) =>
        (i % 2 ? b : a).commitCall(makeCall({ ...base }, `w${i}`, round, 'shared')),
      );
      const out = await Promise.allSettled(attempts);
      expect(out.filter((o) => o.status === 'fulfilled').length).toBe(1);
      expect(new Set(out.map(codeOf))).toEqual(new Set(['ok', 'STORE_CHAIN_CONFLICT']));
    }
    const chain = await b.receipts({ chainId: 'shared' });
    expect(chain.map((r) => r.lamport)).toEqual([1, 2, 3]);
    expect(verifyChain(chain)).toBe(3);
    expect((await a.chainHead('shared'))?.receiptId).toBe(chain[2]?.id);
  });

  it('one chain per node: 2 nodes × 32 concurrent calls each, no cross-node conflict, both chains verify', async () => {
    const pair = await nodes(2);
    const states = pair.map(() => fresh());
    for (let round = 0; round < 2; round++) {
      const out = await Promise.allSettled(
        pair.flatMap((s, k) =>
          Array.from({ length: 32 }, (_, i) =>
            s.commitCall(makeCall(states[k] as ChainState, `node${k}`, round * 32 + i, `chain-${k}`)),
          ),
        ),
      );
      expect(out.map(codeOf).filter((c) => c !== 'ok')).toEqual([]);
    }
    for (const k of [0, 1]) {
      const chain = await (pair[0] as PostgresStore).receipts({ chainId: `chain-${k}` });
      expect(verifyChain(chain)).toBe(64);
    }
    // Group commit: far fewer transactions than calls.
    expect((pair[0] as PostgresStore).groupFlushes).toBeLessThan(64);
  });
});

describe('I-MULTINODE-1: budgets', () => {
  it('2 nodes × 32 concurrent admissions reserving on one account: exactly the ceiling is admitted, never more', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const charges = [{ account: 'tenant', ceiling: 20 }];
    const tries = Array.from({ length: 64 }, (_, i) => {
      const s = i % 2 ? b : a;
      const id = `${s.nodeId}-${i}`;
      return s.admitCall({ id, chainId: s.nodeId, sessionId: 's', reservationId: `res-${id}`, body: { i } }, [
        { op: 'reserve', id: `res-${id}`, charges, amount: 1 },
      ]);
    });
    const out = await Promise.allSettled(tries);
    expect(out.filter((o) => o.status === 'fulfilled').length).toBe(20);
    expect(out.map(codeOf).filter((c) => c !== 'ok' && c !== 'STORE_BUDGET_EXCEEDED')).toEqual([]);
    expect(await a.ledgerState('tenant')).toEqual({ spent: 0, reserved: 20 });
    // Each node receipts its own admitted calls, spending their reservations.
    for (const s of [a, b]) {
      const st = fresh();
      let i = 0;
      for (const adm of await s.admissions(s.nodeId)) {
        await s.commitCall({
          ...makeCall(st, s.nodeId, i++, s.nodeId),
          admissionId: adm.id,
          ledger: [{ op: 'commit', id: adm.reservationId as string }],
        });
      }
    }
    expect(await b.ledgerState('tenant')).toEqual({ spent: 20, reserved: 0 });
    expect(await a.admissions()).toEqual([]);
    expect(await a.ledgerReserve(charges, 1)).toBeNull();
  });

  it('multi-account reservations taken in opposite orders by two nodes: no deadlock surfaces, no account overspent', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const x = { account: 'x', ceiling: 30 };
    const y = { account: 'y', ceiling: 40 };
    const out = await Promise.allSettled(
      Array.from({ length: 64 }, (_, i) => (i % 2 ? b.ledgerReserve([y, x], 1) : a.ledgerReserve([x, y], 1))),
    );
    expect(out.map(codeOf).filter((c) => c !== 'ok')).toEqual([]);
    const granted = out.filter((o) => o.status === 'fulfilled' && o.value !== null).length;
    expect(granted).toBe(30);
    expect(await a.ledgerState('x')).toEqual({ spent: 0, reserved: 30 });
    expect(await a.ledgerState('y')).toEqual({ spent: 0, reserved: 30 });
  });
});

describe('I-MULTINODE-1: nonces and idempotency', () => {
  it('a delegation nonce burns once cluster-wide (2 nodes × 32)', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const out = await Promise.all(
      Array.from({ length: 64 }, (_, i) => (i % 2 ? b : a).consumeNonce('delegation', 'n-1')),
    );
    expect(out.filter(Boolean).length).toBe(1);
    const calls = await Promise.allSettled(
      [a, b].map((s, k) =>
        s.commitCall({
          ...makeCall(fresh(), `s${k}`, 0, s.nodeId),
          nonces: [{ scope: 'delegation', nonce: 'n-2' }],
        }),
      ),
    );
    expect(calls.map(codeOf).sort()).toEqual(['STORE_NONCE_REUSED', 'ok']);
  });

  it('a duplicate on another node is answered from the first: one receipt, the other call writes nothing', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const calls = [a, b].map((s, k) => ({
      ...makeCall(fresh(), `s${k}`, 0, s.nodeId),
      idempotency: { key: 'tenant/op-1', value: { from: s.nodeId } },
    }));
    const out = await Promise.allSettled([a.commitCall(calls[0] as never), b.commitCall(calls[1] as never)]);
    expect(out.map(codeOf).sort()).toEqual(['STORE_IDEMPOTENCY_CONFLICT', 'ok']);
    const winner = out[0]?.status === 'fulfilled' ? a : b;
    expect(await a.idempotency('tenant/op-1')).toEqual({ from: winner.nodeId });
    expect((await a.receipts()).length).toBe(1);
  });
});

describe('I-MULTINODE-1: admission leases', () => {
  it('a live owner keeps its admissions; after expiry exactly one node takes them over and the old owner cannot close them', async () => {
    const [b, c] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const schema = b.schema;
    const live = await node(schema, 'live', { leaseMs: 60_000 });
    await live.admitCall({ id: 'live-1', chainId: 'live', sessionId: 's', body: {} });
    const dying = await node(schema, 'dying', { leaseMs: 1 });
    for (let i = 0; i < 3; i++)
      await dying.admitCall({ id: `dying-${i}`, chainId: 'dying', sessionId: 's', body: { i } });
    await leasesExpire(schema, 'dying');
    // Two takers race: every expired admission is taken exactly once, the live one by nobody.
    const [tb, tc] = await Promise.all([b.takeOverExpired(), c.takeOverExpired()]);
    const taken = [...tb, ...tc].map((a) => a.id).sort();
    expect(taken).toEqual(['dying-0', 'dying-1', 'dying-2']);
    expect(new Set(taken).size).toBe(3);
    for (const a of tb) expect(a.nodeId).toBe(b.nodeId);
    for (const a of tc) expect(a.nodeId).toBe(c.nodeId);
    const leased = await b.leasedAdmissions();
    expect(leased.find((a) => a.id === 'live-1')?.nodeId).toBe('live');
    expect(leased.every((a) => a.leaseUntil > Date.now() - 60_000)).toBe(true);
    // The old owner wakes up: it cannot close what it lost (no second receipt).
    await expect(
      dying.commitCall({ ...makeCall(fresh(), 's', 0, 'dying'), admissionId: 'dying-0' }),
    ).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
    expect(await b.receipts({ chainId: 'dying' })).toEqual([]);
    // The taker receipts it (EXECUTION_INTERRUPTED in a runtime) on its own chain.
    const owner = tb.some((a) => a.id === 'dying-0') ? b : c;
    await owner.commitCall({ ...makeCall(fresh(), 's', 0, owner.nodeId), admissionId: 'dying-0' });
    expect((await b.admissions()).map((a) => a.id)).not.toContain('dying-0');
    expect(await live.takeOverExpired()).toEqual([]);
  });

  it('an owner that renews is never taken over', async () => {
    const [b] = (await nodes(1)) as [PostgresStore];
    const owner = await node(b.schema, 'owner', { leaseMs: 1 });
    await owner.admitCall({ id: 'a', sessionId: 's', body: {} });
    expect(await owner.renewLeases(60_000)).toBe(1);
    expect(await b.takeOverExpired()).toEqual([]);
    expect((await b.leasedAdmissions())[0]?.nodeId).toBe('owner');
  });

  it("reservations follow their admission; an expired owner's unheld reservation is refunded and can no longer be admitted", async () => {
    const [b] = (await nodes(1)) as [PostgresStore];
    const dying = await node(b.schema, 'dying', { leaseMs: 1 });
    const charges = [{ account: 'acct', ceiling: 10 }];
    await dying.admitCall({ id: 'held', sessionId: 's', reservationId: 'res-held', body: {} }, [
      { op: 'reserve', id: 'res-held', charges, amount: 3 },
    ]);
    const loose = (await dying.ledgerReserve(charges, 2)) as string;
    expect(await b.ledgerState('acct')).toEqual({ spent: 0, reserved: 5 });
    await leasesExpire(b.schema, 'dying');
    const taken = await b.takeOverExpired();
    expect(taken.map((a) => [a.id, a.reservationId, a.nodeId])).toEqual([['held', 'res-held', b.nodeId]]);
    expect(await b.ledgerReservation(loose)).toBeUndefined();
    expect(await b.ledgerState('acct')).toEqual({ spent: 0, reserved: 3 });
    // The old owner's call that never reached admission fails before its driver could run.
    await expect(
      dying.admitCall({ id: 'late', sessionId: 's', reservationId: loose, body: {} }),
    ).rejects.toMatchObject({ code: 'STORE_RESERVATION_UNKNOWN' });
    // The taker's receipt closes the admission and charges the held reservation.
    await b.commitCall({
      ...makeCall(fresh(), 's', 0, b.nodeId),
      admissionId: 'held',
      ledger: [{ op: 'commit', id: 'res-held' }],
    });
    expect(await b.ledgerState('acct')).toEqual({ spent: 3, reserved: 0 });
    expect(await b.releaseOrphanReservations()).toEqual([]);
  });
});

describe('I-MULTINODE-1: leadership (the global log has one writer)', () => {
  it('one leader per role at a time; a leader whose connection dies is replaced; release hands over', async () => {
    const [a, b] = (await nodes(2)) as [PostgresStore, PostgresStore];
    const [la, lb] = await Promise.all([a.tryLead('log'), b.tryLead('log')]);
    expect([la, lb].filter((l) => l !== undefined).length).toBe(1);
    const leader = (la ?? lb) as NonNullable<typeof la>;
    const other = la ? b : a;
    expect(await other.tryLead('log')).toBeUndefined();
    // Another role is independent.
    const witness = await other.tryLead('witness');
    expect(witness?.role).toBe('witness');
    // The leader's connection dies: it learns it lost, and another node can lead.
    const admin = await raw(db.url);
    try {
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
        [`helm:${la ? a.nodeId : b.nodeId}:leader`],
      );
    } finally {
      await admin.end();
    }
    await leader.lost;
    let next: Awaited<ReturnType<PostgresStore['tryLead']>>;
    for (let i = 0; i < 200 && !next; i++) next = await other.tryLead('log');
    expect(next?.role).toBe('log');
    await next?.release();
    await next?.release(); // harmless twice
    const again = await (la ? a : b).tryLead('log');
    expect(again).toBeDefined();
    await leader.release();
    await witness?.release();
  });
});
