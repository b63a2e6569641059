// Red team (PostgreSQL): I-MULTINODE-2 — a database writer rewrites the trust registry while a
// node runs, keeping the number of events. A freshness check that compares only the event count
// does not notice: the node keeps deciding and signing under a registry the database no longer
// holds (the next node to open reads the rewritten one). The check compares a digest of the
// registry's stored events (key and text, in key order), so any rewrite — same length or not —
// stops the node before its next decision, unsigned (TRUST_REGISTRY_STALE). Real PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, rotateKey } from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c4'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_trust_rw');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-trust-rw-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const call = (i: number) => ({
  tool: 'pay',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

describe('redteam-pg: the trust registry rewritten in place, same length (I-MULTINODE-2)', () => {
  it('a node refuses its next decision when the registry changed without growing', async () => {
    const t = await publishedDataDir(db.url, root, FINGERPRINT, 'rw');
    const a = nodeDir(t, root, 'rw-a');
    await attachDatabase(a, { url: db.url, schema: 'rw' });
    const ra = await GovernedRuntime.open(a, { clock });
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'ops',
      schema: 'rw',
      migrate: false,
    });
    const c = await raw(db.url);
    try {
      expect((await ra.execute(call(1))).status).toBe('SUCCEEDED');
      // Another registry event (a rotation, made on a copy of the operator's directory) replaces
      // the last stored one: the database's registry has as many events as before.
      const ops = new DataDir(t.dir);
      rotateKey(ops, 'executor');
      const docs = ops.store.listDocumentsSync('trust');
      ops.close();
      const before = await s.listDocuments('trust');
      const last = before[before.length - 1];
      const replacement = docs[docs.length - 1];
      expect(last && replacement).toBeTruthy();
      await c.query(`UPDATE rw.documents SET value = $1 WHERE namespace = 'trust' AND doc_key = $2`, [
        JSON.stringify(replacement?.value),
        last?.key,
      ]);
      expect(await s.listDocuments('trust')).toHaveLength(before.length);
      const r = await ra.execute(call(2));
      expect(r).toMatchObject({ status: 'DENIED', reason_code: 'TRUST_REGISTRY_STALE', receipt: null });
      expect(await s.receipts({ chainId: 'rw-a' })).toHaveLength(1);
      // And it stays refused.
      expect((await ra.execute(call(3))).reason_code).toBe('TRUST_REGISTRY_STALE');
    } finally {
      await c.end();
      await s.close();
      await ra.close();
      await a.closeAll();
    }
  });
});
