// Red team (PostgreSQL): I-MULTINODE-2 / I-INPUT-1 / I-FAILCLOSED-3 — a node takes its chain head
// from the `chain_heads` row without checking it against the head receipt. A database-row writer
// who edits that row's hash makes the node sign every later receipt over a hash no receipt has:
// the node keeps executing effects whose receipts break the chain, so the chain's EvidencePack no
// longer verifies (the history before the edit included) — the writer silently turned every later
// effect into one without verifiable evidence. The node reads the head receipt at open anyway
// (ChainReceipts.open) and could refuse a head row that is not its hash. Real PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, exportPackFrom, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c6'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_head');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-head-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> => publishedDataDir(db.url, root, FINGERPRINT, schema);

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

describe('redteam-pg: a forged chain head row (I-MULTINODE-2)', () => {
  it('a node never signs receipts over a chain_heads hash that is not its head receipt', async () => {
    const t = await published('head');
    const a = nodeDir(t, 'head-a');
    await attachDatabase(a, { url: db.url, schema: 'head' });
    const call = (i: number) => ({
      tool: 'pay',
      principal: 'alice',
      args: { i } as never,
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    });
    const writer = await raw(db.url);
    try {
      const r1 = await GovernedRuntime.open(a, { clock });
      expect((await r1.execute(call(1))).status).toBe('SUCCEEDED');
      await r1.close();
      // The writer edits the head row's hash (the receipts themselves are untouched).
      await writer.query(`UPDATE head.chain_heads SET hash = $1 WHERE chain_id = 'head-a'`, [
        `sha256:${'1'.repeat(64)}`,
      ]);
      let r2: GovernedRuntime | undefined;
      try {
        r2 = await GovernedRuntime.open(a, { clock });
        await r2.execute(call(2));
      } catch {
        // Refusing to open or to call on a head row that does not match is fail-closed: fine.
      } finally {
        await r2?.close();
      }
      const s = await openPostgresStore({
        connectionString: db.url,
        nodeId: 'x',
        schema: 'head',
        migrate: false,
      });
      try {
        const pack = await exportPackFrom(a, s, {});
        const report = await verifyEvidencePack(pack.bytes, { trustAnchor: a.config().trust_anchor });
        // Whatever the node signed extends the real chain.
        expect(report.status).toBe('PASS');
      } finally {
        await s.close();
      }
    } finally {
      await writer.end();
      await a.closeAll();
    }
  });
});
