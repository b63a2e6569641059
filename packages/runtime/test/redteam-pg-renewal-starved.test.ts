// Red team (PostgreSQL): I-MULTINODE-1 / I-MULTINODE-2 — a live node loses its admissions because
// its own lease renewal waits behind its recovery of another node's admissions. LeaseKeeper runs
// renew → take over → `await recover(taken)` as ONE pass, and every later pass (the renewals) is
// chained after it. Receipting what was taken over is one database commit per admission, one at a
// time: a node that takes over many admissions (a dead node's full group-commit batch, or rows a
// database writer planted), or a slow database (the brief's "slow, fail closed"), recovers for
// longer than its lease — and meanwhile renews nothing. Its own in-flight calls' leases expire
// while it is alive and a third node takes them over and receipts them EXECUTION_INTERRUPTED
// while their drivers still run. Real PostgreSQL, fresh database.
import type { LeasedAdmission } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { LeaseKeeper } from '../src/internal/leases.ts';

const db = await createTestDatabase('rt_rp_starve');
afterAll(() => db.drop());
const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
});

const LEASE_MS = 1_500;

async function open(nodeId: string): Promise<PostgresStore> {
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId,
    schema: 'starve',
    groupCommit: false,
    leaseMs: LEASE_MS,
  });
  opened.push(s);
  return s;
}

const admit = (store: PostgresStore, id: string) =>
  store.admitCall({ id, chainId: store.nodeId, sessionId: store.nodeId, body: { id } });

describe('redteam-pg: renewal starved by recovery (I-MULTINODE-1)', () => {
  it("a node's own live admissions are never taken over while it is busy recovering another node's", async () => {
    const dead = await open('node-dead');
    const b = await open('node-b');
    const c = await open('node-c');
    await admit(dead, 'dead-1');
    await new Promise((r) => setTimeout(r, LEASE_MS + 300)); // node-dead's lease ran out
    await admit(b, 'b-live'); // node-b's own call, its driver running
    let finish = (): void => undefined;
    const slow = new Promise<void>((r) => {
      finish = r;
    });
    const kb = new LeaseKeeper({
      leases: b,
      leaseMs: LEASE_MS,
      // Receipting what was taken over takes longer than the lease (many admissions, a slow database).
      recover: () => slow,
    });
    const takenByC: LeasedAdmission[] = [];
    try {
      kb.start();
      void kb.tick();
      // node-b is alive the whole time, its timer firing every LEASE_MS / 3.
      await new Promise((r) => setTimeout(r, LEASE_MS + 700));
      takenByC.push(...(await c.takeOverExpired(LEASE_MS)));
    } finally {
      finish();
      await kb.stop();
    }
    expect(takenByC.map((a) => a.id)).not.toContain('b-live');
  });
});
