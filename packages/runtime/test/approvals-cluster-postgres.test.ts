// I-GOVERN-2 / I-MULTINODE-2. The approval ceremony across nodes on one PostgreSQL database. The
// attacker's view: a call held on node A is approved once; its retry is sent to A and to B at the
// same moment (a load balancer, a client retrying on timeout). The approved call must run exactly
// once cluster-wide — the grant is consumed once, the store's primary key deciding the race, the
// loser failing before any driver — and a node that never saw the challenge must not refuse the
// approval for good (an application record rejecting it would bind every node).
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
import { approvalTemplate, deployRequest, receiptStatuses } from './approval-cluster-fixture.ts';
import { nodeDir } from './pg-node-fixture.ts';

const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_appr_cluster');
const root = mkdtempSync(join(tmpdir(), 'helm-appr-cluster-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const deploy = deployRequest;

const template = (schema: string) => approvalTemplate(root, db.url, schema);

const statuses = receiptStatuses;

describe('approvals across nodes (PostgreSQL)', () => {
  it('a call held on A and approved once runs exactly once when A and B race its retry', async () => {
    const t = await template('race');
    const a = nodeDir(t, root, 'race-a');
    const b = nodeDir(t, root, 'race-b');
    await attachDatabase(a, { url: db.url, schema: 'race' });
    await attachDatabase(b, { url: db.url, schema: 'race' });
    const ra = await GovernedRuntime.open(a, { clock });
    const rb = await GovernedRuntime.open(b, { clock });
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'ops',
      schema: 'race',
      migrate: false,
    });
    const approver = new DataDir(t.dir).localKey('approver-1').signer;
    try {
      for (const version of ['1.0.0', '2.0.0', '3.0.0']) {
        const held = await ra.execute(deploy(version));
        expect(held.status).toBe('ESCALATED');
        const id = held.approval_challenge_id as string;
        const stored = await s.governanceChallenge(id);
        expect(stored).toBeDefined();
        const c = verifiedChallenge(stored as never, await a.registryAsync());
        await appendGovernanceEventAsync(a, {
          action: 'approval.grant',
          body: { challenge_id: id, statement: approvalStatement(c, approver) as never },
          signer: approver,
          at: Date.now(),
        });
        const [x, y] = await Promise.all([ra.execute(deploy(version)), rb.execute(deploy(version))]);
        const results = [x.status, y.status];
        // Exactly one runs; the other never reaches a driver.
        expect(results.filter((r) => r === 'SUCCEEDED')).toHaveLength(1);
        // The loser either decided with the grant and its admission was refused — by the grant's
        // primary key, or (the winner's admission already written) by the winner's signed decision
        // naming the grant — a receipted denial before any driver; or it read the grant's row as
        // consumed before deciding and holds the call for a new approval.
        const loser = x.status === 'SUCCEEDED' ? y : x;
        expect(loser.receipt).not.toBeNull();
        if (loser.status === 'DENIED') {
          expect(loser.reason_code).toBe('RECEIPT_PERSIST_FAILED');
          // Refused over this grant (STORE_GRANT_CONSUMED: by the grant's primary key, or by the
          // signed decision that already names it), not over some other store failure.
          expect(loser.message).toContain(id);
        } else expect(loser.status).toBe('ESCALATED');
        const ran = [...(await statuses(s, 'race-a', 'deploy')), ...(await statuses(s, 'race-b', 'deploy'))];
        expect(ran.filter((r) => r === 'SUCCEEDED')).toHaveLength(
          ['1.0.0', '2.0.0', '3.0.0'].indexOf(version) + 1,
        );
        // The approval was applied (not rejected by the node that never held the challenge).
        const records = await s.governanceApplied();
        expect(records.map((r) => (r.record as { outcome: string }).outcome)).not.toContain('rejected');
        // A later retry on either node does not run it again: both read the grant's row before
        // deciding and hold the call for a new approval instead of deciding with a used grant.
        for (const r of [ra, rb]) expect((await r.execute(deploy(version))).status).toBe('ESCALATED');
      }
      expect((await s.governanceGrants()).length).toBe(3);
    } finally {
      await s.close();
      await ra.close();
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });

  it('a grant consumed on A is read by B before B decides: B holds the call again, never decides with a used grant', async () => {
    const t = await template('used');
    const a = nodeDir(t, root, 'used-a');
    const b = nodeDir(t, root, 'used-b');
    await attachDatabase(a, { url: db.url, schema: 'used' });
    await attachDatabase(b, { url: db.url, schema: 'used' });
    const ra = await GovernedRuntime.open(a, { clock });
    const rb = await GovernedRuntime.open(b, { clock });
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'ops',
      schema: 'used',
      migrate: false,
    });
    const approver = new DataDir(t.dir).localKey('approver-1').signer;
    try {
      const held = await rb.execute(deploy('9.9.9'));
      expect(held.status).toBe('ESCALATED');
      const id = held.approval_challenge_id as string;
      const c = verifiedChallenge((await s.governanceChallenge(id)) as never, await a.registryAsync());
      await appendGovernanceEventAsync(b, {
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(c, approver) as never },
        signer: approver,
        at: Date.now(),
      });
      // B applies the approval (a call of another tool is enough: it ingests before deciding).
      await rb.ingestGovernance();
      // A runs the approved call (it restores B's challenge when it applies the approval).
      expect((await ra.execute(deploy('9.9.9'))).status).toBe('SUCCEEDED');
      // B still holds the approval in memory; it must read the grant's row before deciding.
      const again = await rb.execute(deploy('9.9.9'));
      expect(again.status).toBe('ESCALATED');
      expect(again.approval_challenge_id).not.toBe(id);
      expect(
        [...(await statuses(s, 'used-a', 'deploy')), ...(await statuses(s, 'used-b', 'deploy'))].filter(
          (x) => x === 'SUCCEEDED',
        ),
      ).toHaveLength(1);
    } finally {
      await s.close();
      await ra.close();
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
