// Red team (I-GOVERN-2, I-MULTINODE-2). Attacker: the database writer (any row of HELM's schema,
// no keys). Claim under test: "deleting the [governance_grants] row never re-opens the grant" and
// "on a shared database the approved call runs at most once cluster-wide".
//
// The defence against a deleted grant row is the grant scan at open: a grant that a receipt of
// THE NODE'S OWN CHAIN names is consumed. On a shared database the call that used the grant ran
// on another node's chain, so a node that opens after the row is deleted (or a running node that
// has not read the row since the approval was applied) finds the approval applied (from the
// records), the grant row absent and no receipt of its own chain naming it: the grant is open
// again, and the approved call runs a second time on that node — the admission re-inserts the
// grant row the writer deleted, so the primary key does not stop it either.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
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
const db = await createTestDatabase('rt_gov_grant_del');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-grantdel-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const deploy = deployRequest;

const template = (schema: string) => approvalTemplate(root, db.url, schema);

const statuses = receiptStatuses;

/** A and B open on `schema`; deploy 1.0.0 held on A, approved once, run on A; its grant row deleted by the writer. */
async function approvedRunDeleted(schema: string) {
  const t = await template(schema);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  const c = nodeDir(t, root, `${schema}-c`);
  for (const d of [a, b, c]) await attachDatabase(d, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  const sql = await raw(db.url);
  const approver = new DataDir(t.dir).localKey('approver-1').signer;
  const held = await ra.execute(deploy('1.0.0'));
  expect(held.status).toBe('ESCALATED');
  const id = held.approval_challenge_id as string;
  const challenge = verifiedChallenge((await s.governanceChallenge(id)) as never, await a.registryAsync());
  await appendGovernanceEventAsync(a, {
    action: 'approval.grant',
    body: { challenge_id: id, statement: approvalStatement(challenge, approver) as never },
    signer: approver,
    at: Date.now(),
  });
  // The approved call runs once, on A; its grant row is written with the admission.
  expect((await ra.execute(deploy('1.0.0'))).status).toBe('SUCCEEDED');
  expect(await s.governanceGrants()).toHaveLength(1);
  // The database writer deletes the consumed grant's row.
  const del = await sql.query(`DELETE FROM ${schema}.governance_grants WHERE challenge_id = $1`, [id]);
  expect(del.rowCount).toBe(1);
  const succeeded = async () =>
    [
      ...(await statuses(s, `${schema}-a`, 'deploy')),
      ...(await statuses(s, `${schema}-b`, 'deploy')),
      ...(await statuses(s, `${schema}-c`, 'deploy')),
    ].filter((x) => x === 'SUCCEEDED').length;
  let rc: GovernedRuntime | undefined;
  return {
    ra,
    rb,
    s,
    succeeded,
    openC: async () => {
      rc = await GovernedRuntime.open(c, { clock });
      return rc;
    },
    close: async () => {
      await sql.end();
      await s.close();
      await ra.close();
      await rb.close();
      await rc?.close();
      await a.closeAll();
      await b.closeAll();
      await c.closeAll();
    },
  };
}

describe('red team: a database writer deletes a consumed grant row on a shared database', () => {
  it('control: node A, whose own chain names the grant, does not run the approved call again', async () => {
    const n = await approvedRunDeleted('gdel_a');
    try {
      expect((await n.ra.execute(deploy('1.0.0'))).status).toBe('ESCALATED');
      expect(await n.succeeded()).toBe(1);
    } finally {
      await n.close();
    }
  });

  it('a running node B that applies the approval after the deletion does not run the approved call again', async () => {
    const n = await approvedRunDeleted('gdel_b');
    try {
      const onB = await n.rb.execute(deploy('1.0.0'));
      // Today: SUCCEEDED — the once-approved call runs a second time, on B.
      expect({ onB: onB.status, succeeded: await n.succeeded() }).toEqual({ onB: 'ESCALATED', succeeded: 1 });
    } finally {
      await n.close();
    }
  });

  it('a node C opened after the deletion does not run the approved call again', async () => {
    const n = await approvedRunDeleted('gdel_c');
    try {
      const rc = await n.openC().catch((error: { code?: string }) => error);
      if (!(rc instanceof GovernedRuntime)) {
        // Refusing the open (the record of use is missing) is a correct answer too.
        expect(rc.code).toBe('GOVERNANCE_LOG_INVALID');
        return;
      }
      const onC = await rc.execute(deploy('1.0.0'));
      expect({ onC: onC.status, succeeded: await n.succeeded() }).toEqual({ onC: 'ESCALATED', succeeded: 1 });
    } finally {
      await n.close();
    }
  });
});
