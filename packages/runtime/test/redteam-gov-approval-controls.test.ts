// Red team controls (I-GOVERN-2 across nodes), claims that held: an approval counts once per
// approver key even when the same approver's statements are appended through two nodes, and a
// denial applied through one node closes the challenge for an approval appended through another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  approvalStatement,
  attachDatabase,
  DataDir,
  GovernedRuntime,
  verifiedChallenge,
} from '../src/index.ts';
import { approvalTemplate, deployRequest } from './approval-cluster-fixture.ts';
import { nodeDir } from './pg-node-fixture.ts';

const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_appr_ctl');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-apprctl-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const deploy = deployRequest;

const template = (schema: string, quorum = 1) => approvalTemplate(root, db.url, schema, quorum);

async function cluster(schema: string, quorum: number) {
  const t = await template(schema, quorum);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  await attachDatabase(a, { url: db.url, schema });
  await attachDatabase(b, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  const keys = new DataDir(t.dir);
  const signer = (name: string) => keys.localKey(name).signer;
  const held = await ra.execute(deploy('1.0.0'));
  expect(held.status).toBe('ESCALATED');
  const id = held.approval_challenge_id as string;
  const challenge = verifiedChallenge((await s.governanceChallenge(id)) as never, await a.registryAsync());
  const approve = (through: DataDir, name: string) =>
    appendGovernanceEventAsync(through, {
      action: 'approval.grant',
      body: { challenge_id: id, statement: approvalStatement(challenge, signer(name)) as never },
      signer: signer(name),
      at: Date.now(),
    });
  const deny = (through: DataDir, name: string) =>
    appendGovernanceEventAsync(through, {
      action: 'approval.deny',
      body: { challenge_id: id },
      signer: signer(name),
      at: Date.now(),
    });
  const close = async () => {
    await s.close();
    await ra.close();
    await rb.close();
    await a.closeAll();
    await b.closeAll();
    keys.close();
  };
  return { a, b, ra, rb, s, approve, deny, close };
}

describe('red team controls: the approval ceremony across nodes', () => {
  it('quorum 2: one approver whose statements are appended through A and through B counts once on both nodes', async () => {
    const n = await cluster('q2', 2);
    try {
      await n.approve(n.a, 'approver-1');
      await n.approve(n.b, 'approver-1').catch(() => undefined); // refused at append, or appended and not counted
      for (const r of [n.rb, n.ra]) expect((await r.execute(deploy('1.0.0'))).status).toBe('ESCALATED');
      // A second approver makes the quorum: it runs once.
      await n.approve(n.b, 'approver-2');
      const [x, y] = await Promise.all([n.ra.execute(deploy('1.0.0')), n.rb.execute(deploy('1.0.0'))]);
      expect([x.status, y.status].filter((v) => v === 'SUCCEEDED')).toHaveLength(1);
    } finally {
      await n.close();
    }
  });

  it('a denial appended through B closes the challenge A opened; a later approval through A runs nothing', async () => {
    const n = await cluster('deny', 1);
    try {
      await n.deny(n.b, 'approver-2');
      // B applies the denial first (it never held the challenge: it is read before applying).
      const onB = await n.rb.execute(deploy('1.0.0'));
      expect(onB.status).not.toBe('SUCCEEDED');
      await n.approve(n.a, 'approver-1').catch(() => undefined);
      for (const r of [n.ra, n.rb]) expect((await r.execute(deploy('1.0.0'))).status).not.toBe('SUCCEEDED');
      const records = (await n.s.governanceApplied()).map((r) => (r.record as { outcome: string }).outcome);
      expect(records[0]).toBe('applied');
    } finally {
      await n.close();
    }
  });
});
