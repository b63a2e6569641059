// Red team follow-up (redfix; I-GOVERN-2: "an approval counts ... never after a denial").
// Attacker: the database writer (any row, no keys) with an approver who approves after a denial.
// The same class as redteam-gov-deny-hidden-challenge, at a denial's FIRST application: the writer
// hides the challenge's row after the denial is appended and before any node applies it, so the
// node that applies it first — one that does not hold the challenge (it opened before the call was
// held) — finds nothing to deny. Recorded "rejected" for every node, the denial would be skipped by
// the node that holds the challenge, and a later approval would run the denied call there.
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
import { approvalTemplate, deployRequest } from './approval-cluster-fixture.ts';
import { nodeDir } from './pg-node-fixture.ts';

const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_deny_first');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-denyfirst-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const deploy = deployRequest;

const template = (schema: string, quorum = 1) => approvalTemplate(root, db.url, schema, quorum);

describe('red team: a denied challenge hidden when the denial is first applied', () => {
  it('the node that holds the challenge still obeys the denial: the call never runs', async () => {
    const schema = 'denyfirst';
    const t = await template(schema, 1);
    const a = nodeDir(t, root, `${schema}-a`);
    const c = nodeDir(t, root, `${schema}-c`);
    await attachDatabase(a, { url: db.url, schema });
    await attachDatabase(c, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    // C opens before the call is held: it does not hold the challenge.
    const rc = await GovernedRuntime.open(c, { clock });
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
    const sql = await raw(db.url);
    const keys = new DataDir(t.dir);
    const signer = (name: string) => keys.localKey(name).signer;
    try {
      const held = await ra.execute(deploy('1.0.0'));
      expect(held.status).toBe('ESCALATED');
      const id = held.approval_challenge_id as string;
      const challenge = verifiedChallenge(
        (await s.governanceChallenge(id)) as never,
        await a.registryAsync(),
      );
      await appendGovernanceEventAsync(a, {
        action: 'approval.deny',
        body: { challenge_id: id },
        signer: signer('approver-2'),
        at: Date.now(),
      });
      // The writer hides the row; C applies the denial first (a call of another intent), then the
      // row is put back.
      const row = (
        await sql.query(`SELECT * FROM ${schema}.governance_challenges WHERE challenge_id = $1`, [id])
      ).rows[0];
      await sql.query(`DELETE FROM ${schema}.governance_challenges WHERE challenge_id = $1`, [id]);
      expect((await rc.execute(deploy('0.0.1'))).status).toBe('ESCALATED');
      const cols = Object.keys(row);
      await sql.query(
        `INSERT INTO ${schema}.governance_challenges (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((k) => row[k]),
      );
      // approver-1 approves; the append is refused when the log shows the denial (a correct answer).
      await appendGovernanceEventAsync(a, {
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(challenge, signer('approver-1')) as never },
        signer: signer('approver-1'),
        at: Date.now(),
      }).catch(() => undefined);
      // Without the fix: the denial is recorded rejected, A skips it, applies the approval: SUCCEEDED.
      expect((await ra.execute(deploy('1.0.0'))).status).not.toBe('SUCCEEDED');
      expect((await rc.execute(deploy('1.0.0'))).status).not.toBe('SUCCEEDED');
    } finally {
      await sql.end();
      await s.close();
      await ra.close();
      await rc.close();
      await a.closeAll();
      await c.closeAll();
      keys.close();
    }
  });
});
