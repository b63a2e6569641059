// Red team (PostgreSQL): I-REPLAY-1 / I-MULTINODE-2 — an idempotency key must not let one call run
// twice across nodes. On one node, two concurrent calls with one idempotency key are serialized by
// the executor: the second replays the first (IDEMPOTENT_REPLAY) and the driver runs once. On two
// nodes sharing a database the key is claimed only when the receipt commits (`commitCall`'s
// `INSERT … ON CONFLICT DO NOTHING`), i.e. AFTER both drivers ran: a caller that sends its retry to
// another node behind the load balancer gets the effect twice. Real PostgreSQL, fresh database.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

const FINGERPRINT = `sha256:${'c1'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_idem');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-idem-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

async function published(schema: string): Promise<DataDir> {
  const { data: t } = initDataDir(join(root, `t-${schema}`), {
    chainId: `t-${schema}`,
    fingerprint: FINGERPRINT,
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
    driver: { kind: 'mcp', ref: 'pay', timeout_ms: 30_000 },
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
