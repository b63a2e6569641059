// Red team (PostgreSQL): I-MULTINODE-1 / I-MULTINODE-2 — an admission whose lease is live is
// receipted EXECUTION_INTERRUPTED while its owner still runs the driver. Take-over checks the
// lease on the database clock, but start-up recovery of a chain does not: it receipts every open
// admission of the chain (`admissions(chainId)`), trusting the chain's advisory lock to prove the
// previous writer is gone. The lock only proves its CONNECTION is gone: cut it (a network blip, a
// restarted pooler, `pg_terminate_backend`) and a second process on that chain (a restarted
// service, a copied data directory) opens, recovers the first process's in-flight call as
// interrupted — though that process is alive and renewing the lease — and the driver's real
// outcome is then refused. Real PostgreSQL, fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c5'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_live');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-live-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> =>
  publishedDataDir(db.url, root, FINGERPRINT, schema, {
    driver: { kind: 'mcp', ref: 'pay', timeout_ms: 30_000 },
  });

const nodeDir = (from: DataDir, name: string, chain = name): DataDir => nodeDirOf(from, root, name, chain);

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
