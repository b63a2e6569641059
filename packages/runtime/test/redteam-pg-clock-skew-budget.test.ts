// Red team (PostgreSQL): I-BUDGET-2 / I-MULTINODE-1 — clock skew between nodes overspends a budget.
// The budget window is chosen from the deciding node's own clock (`floor(now / length)`), while
// everything else on the shared database (leases) is decided on the database's clock. A node whose
// clock runs one window ahead (a misconfigured host, or a network attacker steering its NTP) draws
// on the NEXT window's account at the same real instant: with an hourly budget of 3 the cluster
// runs 6 governed effects within one real hour. Nothing compares a node's clock with the
// database's. Real PostgreSQL, fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c2'.repeat(32)}`;
const CAP = 3;
const HOUR = 3_600_000;
const db = await createTestDatabase('rt_rp_skew');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-skew-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const P0 = {
  type: 'helm.policy.p0.v1',
  name: 'capped',
  forbidden_effect_types: [],
  budgets: {
    default_principal_max: 10_000,
    default_tenant_max: 10_000,
    principals: { alice: CAP },
    window: 'hour',
  },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: false,
};
const published = (schema: string): Promise<DataDir> =>
  publishedDataDir(db.url, root, FINGERPRINT, schema, { p0: P0 });

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

describe('redteam-pg: clock skew between nodes (I-BUDGET-2)', () => {
  it('a node whose clock is one window ahead of the database cannot spend a second budget in the same real hour', async () => {
    const t = await published('skew');
    const a = nodeDir(t, 'skew-a');
    const b = nodeDir(t, 'skew-b');
    await attachDatabase(a, { url: db.url, schema: 'skew' });
    await attachDatabase(b, { url: db.url, schema: 'skew' });
    const ra = await GovernedRuntime.open(a, { clock: { now: () => Date.now() } });
    const rb = await GovernedRuntime.open(b, { clock: { now: () => Date.now() + HOUR } });
    const call = (i: number) => ({
      tool: 'pay',
      principal: 'alice',
      args: { i } as never,
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    });
    try {
      let ran = 0;
      for (let i = 0; i < CAP + 1; i++) if ((await ra.execute(call(i))).status === 'SUCCEEDED') ran += 1;
      const skewed = [];
      for (let i = 0; i < CAP + 1; i++) {
        const r = await rb.execute(call(100 + i));
        if (r.status === 'SUCCEEDED') ran += 1;
        else skewed.push(r);
      }
      // The node an hour ahead decides nothing: each call is refused under its own reason code,
      // with no receipt (a skewed clock would stamp it with a wrong time).
      expect(skewed).toHaveLength(CAP + 1);
      for (const r of skewed)
        expect(r).toMatchObject({
          status: 'DENIED',
          reason_code: 'CLOCK_SKEW',
          receipt: null,
          decision_id: '',
        });
      // Within one real hour the cluster may run at most the hourly ceiling.
      expect(ran).toBeLessThanOrEqual(CAP);
    } finally {
      await ra.close();
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
