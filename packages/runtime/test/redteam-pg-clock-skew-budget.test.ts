// Red team (PostgreSQL): I-BUDGET-2 / I-MULTINODE-1 — clock skew between nodes overspends a budget.
// The budget window is chosen from the deciding node's own clock (`floor(now / length)`), while
// everything else on the shared database (leases) is decided on the database's clock. A node whose
// clock runs one window ahead (a misconfigured host, or a network attacker steering its NTP) draws
// on the NEXT window's account at the same real instant: with an hourly budget of 3 the cluster
// runs 6 governed effects within one real hour. Nothing compares a node's clock with the
// database's. Real PostgreSQL, fresh database.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

const FINGERPRINT = `sha256:${'c2'.repeat(32)}`;
const CAP = 3;
const HOUR = 3_600_000;
const db = await createTestDatabase('rt_rp_skew');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-skew-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

async function published(schema: string): Promise<DataDir> {
  const { data: t } = initDataDir(join(root, `t-${schema}`), {
    chainId: `t-${schema}`,
    fingerprint: FINGERPRINT,
    p0: {
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
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  t.writeTool({
    type: 'helm.tool.v1',
    name: 'pay',
    description: 'an effect that must happen once',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId: 'setup',
    schema,
    groupCommit: false,
  });
  try {
    await publishTrustRegistry(t, s);
  } finally {
    await s.close();
  }
  t.close();
  return t;
}

function nodeDir(from: DataDir, name: string): DataDir {
  const dir = join(root, name);
  cpSync(from.dir, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: name });
  return d;
}

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
