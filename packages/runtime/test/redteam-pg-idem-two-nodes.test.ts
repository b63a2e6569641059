// Red team (PostgreSQL): I-REPLAY-1 / I-MULTINODE-2 — an idempotency key must not let one call run
// twice across nodes. On one node, two concurrent calls with one idempotency key are serialized by
// the executor: the second replays the first (IDEMPOTENT_REPLAY) and the driver runs once. On two
// nodes sharing a database the key is claimed only when the receipt commits (`commitCall`'s
// `INSERT … ON CONFLICT DO NOTHING`), i.e. AFTER both drivers ran: a caller that sends its retry to
// another node behind the load balancer gets the effect twice. Real PostgreSQL, fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c1'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_idem');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-idem-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> =>
  publishedDataDir(db.url, root, FINGERPRINT, schema, {
    driver: { kind: 'mcp', ref: 'pay', timeout_ms: 30_000 },
  });

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

describe('redteam-pg: one idempotency key, two nodes (I-REPLAY-1)', () => {
  it('a retry of an in-flight idempotent call sent to another node does not run the driver a second time', async () => {
    const t = await published('idem');
    const a = nodeDir(t, 'idem-a');
    const b = nodeDir(t, 'idem-b');
    await attachDatabase(a, { url: db.url, schema: 'idem' });
    await attachDatabase(b, { url: db.url, schema: 'idem' });
    let runs = 0;
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered = (): void => undefined;
    const first = new Promise<void>((r) => {
      entered = r;
    });
    const drivers = {
      mcp: () => ({
        kind: 'mcp',
        invoke: async () => {
          runs += 1;
          entered();
          await gate;
          return { paid: true };
        },
      }),
    };
    const ra = await GovernedRuntime.open(a, { clock, drivers });
    const rb = await GovernedRuntime.open(b, { clock, drivers });
    const call = {
      tool: 'pay',
      principal: 'alice',
      args: { amount: 100 } as never,
      idempotency_key: 'order-42',
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    };
    try {
      const pa = ra.execute(call);
      await first; // node A's driver is running: the caller times out and retries via node B
      const pb = rb.execute(call);
      await new Promise((r) => setTimeout(r, 1_000));
      release();
      const [x, y] = await Promise.allSettled([pa, pb]);
      const check = await openPostgresStore({
        connectionString: db.url,
        nodeId: 'check',
        schema: 'idem',
        migrate: false,
      });
      const open = await check.leasedAdmissions();
      await check.close();
      // One execution; the other call is a replay or a receipted refusal, never a second effect
      // and never an effect left without a receipt.
      expect(runs).toBe(1);
      expect([x.status, y.status]).toEqual(['fulfilled', 'fulfilled']);
      expect(open).toEqual([]);
    } finally {
      release();
      await ra.close();
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
