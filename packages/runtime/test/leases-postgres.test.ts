// A runtime node's leases (src/internal/leases.ts) on a real PostgreSQL server (fresh database for
// this file; HELM_TEST_DATABASE_URL overrides; no server = failure). The attacker here is time:
// a live node's admissions must never be taken over while it renews, a dead node's must be taken
// over exactly once (two takers racing), and a node that cannot renew must stop admitting.

import type { LeasedAdmission } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { LeaseKeeper } from '../src/internal/leases.ts';

const db = await createTestDatabase('rt_lease');
afterAll(() => db.drop());

const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
});

/** Leases long enough that a loaded machine never lets a renewing owner's lapse between two steps. */
const LEASE_MS = 1_500;

async function open(nodeId: string, schema: string): Promise<PostgresStore> {
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId,
    schema,
    groupCommit: false,
    leaseMs: LEASE_MS,
  });
  opened.push(s);
  return s;
}

function keeper(store: PostgresStore, taken: LeasedAdmission[]): LeaseKeeper {
  return new LeaseKeeper({
    leases: store,
    leaseMs: LEASE_MS,
    recover: async (t) => {
      taken.push(...t);
    },
  });
}

const admit = (store: PostgresStore, id: string) =>
  store.admitCall({ id, chainId: store.nodeId, sessionId: store.nodeId, body: { id } });

describe('admission leases of runtime nodes', () => {
  it('a renewing owner keeps its admissions; once it stops, exactly one of two takers gets each, after expiry', async () => {
    const a = await open('node-a', 'lease_takeover');
    const b = await open('node-b', 'lease_takeover');
    const c = await open('node-c', 'lease_takeover');
    await admit(a, 'adm-1');
    await admit(a, 'adm-2');
    const byB: LeasedAdmission[] = [];
    const byC: LeasedAdmission[] = [];
    const ka = keeper(a, []);
    const kb = keeper(b, byB);
    const kc = keeper(c, byC);
    // The owner renews, then the others look at once: its leases are live.
    await ka.tick();
    await Promise.all([kb.tick(), kc.tick()]);
    expect([...byB, ...byC]).toEqual([]);
    expect((await a.leasedAdmissions()).map((x) => x.nodeId)).toEqual(['node-a', 'node-a']);
    // The owner stops renewing (killed); past its lease the two takers race.
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    await Promise.all([kb.tick(), kc.tick()]);
    const taken = [...byB, ...byC].map((x) => x.id).sort();
    expect(taken).toEqual(['adm-1', 'adm-2']);
    const owners = new Map((await a.leasedAdmissions()).map((x) => [x.id, x.nodeId]));
    for (const x of byB) expect(owners.get(x.id)).toBe('node-b');
    for (const x of byC) expect(owners.get(x.id)).toBe('node-c');
    // The old owner, back, renews nothing of what it lost and cannot take it back while the taker renews.
    expect(await a.renewLeases(LEASE_MS)).toBe(0);
    await Promise.all([kb.tick(), kc.tick()]);
    expect(await a.takeOverExpired(LEASE_MS)).toEqual([]);
  });

  it('fail closed: while a renewal fails the node admits nothing; it admits again once one succeeds', async () => {
    const a = await open('node-a', 'lease_fail');
    const ka = keeper(a, []);
    await ka.tick();
    expect(() => ka.check()).not.toThrow();
    await a.close();
    await ka.tick();
    expect(ka.failing).toMatchObject({ code: 'STORE_CLOSED' });
    expect(() => ka.check()).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
    // A keeper over a store that answers again admits again.
    const again = await open('node-a', 'lease_fail');
    const kagain = keeper(again, []);
    await kagain.tick();
    expect(kagain.failing).toBeUndefined();
    expect(() => kagain.check()).not.toThrow();
  });

  it('a failing recovery does not stop later passes', async () => {
    const a = await open('node-a', 'lease_recover');
    const b = await open('node-b', 'lease_recover');
    await admit(a, 'adm-x');
    let calls = 0;
    const kb = new LeaseKeeper({
      leases: b,
      leaseMs: LEASE_MS,
      recover: async () => {
        calls++;
        throw new Error('recovery failed');
      },
    });
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    await expect(kb.tick()).rejects.toThrow('recovery failed');
    await kb.tick(); // runs again (nothing more to take: adm-x is b's now)
    expect(calls).toBe(1);
    expect(kb.failing).toBeUndefined();
  });

  it('attacker: a live node whose admission was taken over stops admitting (a short renewal count), and admits again once it holds none it lost', async () => {
    const b = await open('node-b', 'lease_short');
    const c = await open('node-c', 'lease_short');
    await admit(b, 'b-1');
    await admit(b, 'b-2');
    const held = new Set(['b-1', 'b-2']);
    const kb = new LeaseKeeper({
      leases: b,
      leaseMs: LEASE_MS,
      recover: async () => undefined,
      held: () => held,
    });
    await kb.tick();
    expect(kb.failing).toBeUndefined();
    // node-b paused past its lease (GC, partition): node-c took both over.
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    const taken = await c.takeOverExpired(LEASE_MS);
    expect(taken.map((t) => t.id).sort()).toEqual(['b-1', 'b-2']);
    await kb.tick();
    expect(kb.failing?.code).toBe('STORE_LEASE_LOST');
    expect(() => kb.check()).toThrow(expect.objectContaining({ code: 'STORE_LEASE_LOST' }));
    // Its calls end (their receipts are refused: STORE_LEASE_LOST); it holds nothing more.
    held.clear();
    await kb.tick();
    expect(kb.failing).toBeUndefined();
  });

  it('refuses a lease too short to renew', () => {
    expect(
      () => new LeaseKeeper({ leases: {} as never, leaseMs: 1, recover: async () => undefined }),
    ).toThrow(expect.objectContaining({ code: 'STORE_INVALID_RECORD' }));
  });
});
