// Red team (PostgreSQL): I-MULTINODE-1 / I-MULTINODE-2 — an admission whose lease is live is
// receipted EXECUTION_INTERRUPTED while its owner still runs the driver. Take-over checks the
// lease on the database clock, but start-up recovery of a chain does not: it receipts every open
// admission of the chain (`admissions(chainId)`), trusting the chain's advisory lock to prove the
// previous writer is gone. The lock only proves its CONNECTION is gone: cut it (a network blip, a
// restarted pooler, `pg_terminate_backend`) and a second process on that chain (a restarted
// service, a copied data directory) opens, recovers the first process's in-flight call as
// interrupted — though that process is alive and renewing the lease — and the driver's real
// outcome is then refused. Real PostgreSQL, fresh database.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

const FINGERPRINT = `sha256:${'c5'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_live');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-live-'));
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

function nodeDir(from: DataDir, name: string, chain = name): DataDir {
  const dir = join(root, name);
  cpSync(from.dir, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: chain });
  return d;
}

describe('redteam-pg: recovery at open vs a live lease (I-MULTINODE-1)', () => {
  it("a process opening a chain never receipts an admission whose owner's lease is still live", async () => {
    const t = await published('live');
    const a = nodeDir(t, 'live-1', 'live-chain');
    const b = nodeDir(t, 'live-2', 'live-chain');
    await attachDatabase(a, { url: db.url, schema: 'live', leaseMs: 60_000 });
    await attachDatabase(b, { url: db.url, schema: 'live', leaseMs: 60_000 });
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered = (): void => undefined;
    const running = new Promise<void>((r) => {
      entered = r;
    });
    const drivers = {
      mcp: () => ({
        kind: 'mcp',
        invoke: async () => {
          entered();
          await gate;
          return { paid: true };
        },
      }),
    };
    const killer = await raw(db.url);
    const ra = await GovernedRuntime.open(a, { clock, drivers });
    try {
      const pending = ra.execute({
        tool: 'pay',
        principal: 'alice',
        args: { amount: 100 } as never,
        context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
      });
      await running;
      await ra.leasePass(); // the owner is alive and has just renewed its lease (60 s)
      const before = await killer.query(
        'SELECT admission_id, lease_until > now() AS live FROM live.admissions',
      );
      expect(before.rows).toEqual([expect.objectContaining({ live: true })]);
      // Only the chain lock's connection is cut.
      await killer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'helm:live-chain:leader'`,
      );
      await new Promise((r) => setTimeout(r, 300));
      // A second process on the chain opens (the lock is free) and runs its start-up recovery.
      let rb: GovernedRuntime | undefined;
      try {
        rb = await GovernedRuntime.open(b, { clock, drivers });
      } catch {
        // Refusing to open while the chain has admissions under a live lease is a fine outcome.
      }
      const interrupted = await killer.query(
        `SELECT lamport FROM live.receipts WHERE decision_id = $1 AND convert_from(decode(
           translate((envelope::json->>'payload'), '-_', '+/') || repeat('=', (4 - length(envelope::json->>'payload') % 4) % 4),
           'base64'), 'UTF8')::json->>'reason_code' = 'EXECUTION_INTERRUPTED'`,
        [(before.rows[0] as { admission_id: string }).admission_id],
      );
      release();
      await pending.catch(() => undefined);
      await rb?.close();
      // The live call was not declared interrupted behind its owner's back.
      expect(interrupted.rows).toEqual([]);
    } finally {
      release();
      await killer.end();
      await ra.close().catch(() => undefined);
      await a.closeAll();
      await b.closeAll();
    }
  });
});
