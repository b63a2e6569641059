import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../../store/test/contract.ts';
import { openPostgresStore } from '../src/index.ts';
import { createTestDatabase, emptySchema, raw } from './harness.ts';

const db = await createTestDatabase('contract');
afterAll(() => db.drop());
const schema = 'helm';

// One migrated schema in this file's database, emptied before each test; the peer is a second
// pool with another node id (as another runtime node would have).
describeStoreContract('PostgreSQL', async () => {
  await emptySchema(db.url, schema);
  const store = await openPostgresStore({ connectionString: db.url, nodeId: 'node-a', schema });
  return {
    store,
    peer: () => openPostgresStore({ connectionString: db.url, nodeId: 'node-b', schema }),
  };
});

// receiptById (`GET /v1/calls/{id}`) must stay a lookup as chains grow: its statement is planned
// on the unique index of receipts.receipt_id and the requests primary key, never a table scan.
// The planner is told to avoid sequential scans, so the plan names an index only when one can
// answer the statement (on a tiny table it would otherwise scan anyway, index or not).
describe('PostgreSQL receiptById plan', () => {
  it('uses the receipt_id unique index and the requests primary key, no sequential scan', async () => {
    const planSchema = 'byid_plan';
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'plan', schema: planSchema });
    await s.close();
    const c = await raw(db.url);
    try {
      await c.query('SET enable_seqscan = off');
      const { rows } = await c.query(
        `EXPLAIN SELECT r.*, q.request_id FROM ${planSchema}.receipts r
           LEFT JOIN ${planSchema}.requests q ON q.request_id = r.receipt_id AND q.receipt_id = r.receipt_id
          WHERE r.receipt_id = $1`,
        ['r-s-1'],
      );
      const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/Seq Scan/);
      expect(plan).toMatch(/receipts_receipt_id/);
      expect(plan).toMatch(/requests_pkey/);
    } finally {
      await c.end();
    }
  });
});
