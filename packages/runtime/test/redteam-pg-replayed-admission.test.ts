// Red team (PostgreSQL): I-RECOVERY-1 / I-MULTINODE-2 / I-EVIDENCE-7 — a database-row writer
// replays an admission whose call already has its receipt. Recovery only checks that an admission
// carries a guardian-signed ALLOW of its own (I-RECOVERY-1); it never checks that the decision was
// not receipted already, and take-over hands another node any row of `admissions` whose lease ran
// out. The writer copies a finished call's admission back in under a made-up dead node: the next
// node that opens signs a second receipt (EXECUTION_INTERRUPTED, budget charged) for an ALLOW that
// already has its SUCCEEDED receipt on another chain — each chain's pack verifies alone, so
// per-chain verification never sees the decision used twice. Real PostgreSQL, fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, exportPackFrom, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c4'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_ghost');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-ghost-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> =>
  publishedDataDir(db.url, root, FINGERPRINT, schema, {
    driver: { kind: 'mcp', ref: 'pay', timeout_ms: 30_000 },
  });

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

describe('redteam-pg: a replayed admission row (I-RECOVERY-1)', () => {
  it('a decision already receipted on one chain is never receipted again by a node taking over a re-inserted admission', async () => {
    const t = await published('ghost');
    const a = nodeDir(t, 'ghost-a');
    await attachDatabase(a, { url: db.url, schema: 'ghost' });
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
    const writer = await raw(db.url);
    try {
      const ra = await GovernedRuntime.open(a, { clock, drivers });
      const pending = ra.execute({
        tool: 'pay',
        principal: 'alice',
        args: { amount: 100 } as never,
        context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
      });
      await running;
      // The writer keeps a copy of the open admission row ...
      const { rows } = await writer.query(
        'SELECT admission_id, chain_id, session_id, body FROM ghost.admissions',
      );
      expect(rows).toHaveLength(1);
      const row = rows[0] as { admission_id: string; chain_id: string; session_id: string; body: string };
      release();
      const done = await pending;
      expect(done.status).toBe('SUCCEEDED');
      await ra.close();
      await a.closeAll();
      // ... and puts it back later under a node that never existed, its lease long expired.
      await writer.query(
        `INSERT INTO ghost.admissions (admission_id, chain_id, session_id, reservation_id, node_id, lease_until, body)
         VALUES ($1, $2, $3, NULL, 'ghost-node', now() - interval '1 hour', $4)`,
        [row.admission_id, row.chain_id, row.session_id, row.body],
      );
      // The next node that opens takes it over in its first lease pass.
      const b = nodeDir(t, 'ghost-b');
      await attachDatabase(b, { url: db.url, schema: 'ghost' });
      const rb = await GovernedRuntime.open(b, { clock, drivers });
      await rb.leasePass();
      // Node B also does real work, so its chain has receipts to export (a fixed node receipts
      // nothing for the re-inserted row, and an empty chain has no pack).
      const own = await rb.execute({
        tool: 'pay',
        principal: 'alice',
        args: { amount: 1 } as never,
        context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
      });
      expect(own.status).toBe('SUCCEEDED');
      await rb.close();
      const named = await writer.query(
        'SELECT chain_id, lamport FROM ghost.receipts WHERE decision_id = $1',
        [row.admission_id],
      );
      // Node B's chain, exported alone, verifies: nothing per chain sees the decision used twice.
      const s = await openPostgresStore({
        connectionString: db.url,
        nodeId: 'x',
        schema: 'ghost',
        migrate: false,
      });
      try {
        const pack = await exportPackFrom(b, s, {});
        const report = await verifyEvidencePack(pack.bytes, { trustAnchor: b.config().trust_anchor });
        expect(report.status).toBe('PASS');
      } finally {
        await s.close();
      }
      // One ALLOW, one execution, one receipt — cluster-wide.
      expect(named.rows).toHaveLength(1);
      await b.closeAll();
    } finally {
      release();
      await writer.end();
    }
  });
});
