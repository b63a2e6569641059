// Red team (PostgreSQL): I-MULTINODE-2 / I-EVIDENCE-5 — a running node keeps deciding and signing
// under the trust registry it read at open. The node reads the registry from the database only
// at open (`sharedRegistry`); nothing re-reads it afterwards. An operator who rotates the
// executor key out (compromised) and publishes the extended registry (`helmts db publish-trust`)
// expects every node to stop signing with it; a node that was already running keeps executing
// calls and signing receipts with the rotated-out key, each claiming the pre-rotation trust seq,
// so they still verify. Single-node HELM cannot reach this state (key rotation and the runtime
// exclude each other on one data directory); a cluster reaches it by design. Real PostgreSQL.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { keysRotate } from '../../../apps/cli/src/commands/keys-rotate.ts';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

const FINGERPRINT = `sha256:${'c3'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_trust');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-trust-'));
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
