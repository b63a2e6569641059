// Red team (PostgreSQL): I-MULTINODE-2 / I-EVIDENCE-5 — a running node keeps deciding and signing
// under the trust registry it read at open. The node reads the registry from the database only
// at open (`sharedRegistry`); nothing re-reads it afterwards. An operator who rotates the
// executor key out (compromised) and publishes the extended registry (`helmts db publish-trust`)
// expects every node to stop signing with it; a node that was already running keeps executing
// calls and signing receipts with the rotated-out key, each claiming the pre-rotation trust seq,
// so they still verify. Single-node HELM cannot reach this state (key rotation and the runtime
// exclude each other on one data directory); a cluster reaches it by design. Real PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { keysRotate } from '../../../apps/cli/src/commands/keys-rotate.ts';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, publishTrustRegistry } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c3'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_trust');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-trust-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> => publishedDataDir(db.url, root, FINGERPRINT, schema);

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

describe('redteam-pg: a rotation published while a node runs (I-MULTINODE-2)', () => {
  it('a node does not execute or sign under a registry older than the one published in the database', async () => {
    const t = await published('trust');
    const a = nodeDir(t, 'trust-a');
    await attachDatabase(a, { url: db.url, schema: 'trust' });
    const ra = await GovernedRuntime.open(a, { clock });
    const call = (i: number) => ({
      tool: 'pay',
      principal: 'alice',
      args: { i } as never,
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    });
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'ops',
      schema: 'trust',
      migrate: false,
    });
    try {
      expect((await ra.execute(call(1))).status).toBe('SUCCEEDED');
      // The operator rotates the (compromised) executor key out and publishes the new registry.
      const ops = new DataDir(t.dir);
      keysRotate(ops, 'executor');
      const pub = await publishTrustRegistry(ops, s);
      ops.close();
      expect(pub.written).toBe(1);
      const head = pub.events;
      // Node A, still running with the old executor seed, is asked for another call.
      const r = await ra.execute(call(2));
      const receipts = await s.receipts({ chainId: 'trust-a' });
      const last = receipts[receipts.length - 1];
      const payload = JSON.parse(Buffer.from(last?.envelope.payload ?? '', 'base64url').toString('utf8'));
      // Either the node refuses to act on a stale registry, or what it signs is under the head.
      if (r.status === 'SUCCEEDED') expect(payload.trust_seq).toBe(head);
      else expect(r.status).not.toBe('SUCCEEDED');
      // It refuses, under its own registered reason code, and signs nothing: not even a denial,
      // since the key it holds is the one rotated out (reason-codes.md, multi-node.md §3).
      expect(r).toMatchObject({ status: 'DENIED', reason_code: 'TRUST_REGISTRY_STALE', receipt: null });
      expect(r.decision_id).toBe('');
      expect(receipts).toHaveLength(1);
      // And it stays refused: the second call is answered the same way, still unsigned.
      expect((await ra.execute(call(3))).reason_code).toBe('TRUST_REGISTRY_STALE');
      expect(await s.receipts({ chainId: 'trust-a' })).toHaveLength(1);
    } finally {
      await s.close();
      await ra.close();
      await a.closeAll();
    }
  });
});
