// Red team (I-GOVERN-2: "an approval counts ... never after a denial"). Attacker: the database
// writer (any row, no keys), with an approver who approves after another approver denied (or an
// approver colluding with the writer).
//
// On a shared database a node restores every stored challenge at open, then re-applies the log;
// a denial whose challenge it does not hold is re-applied as a no-op ("unknown challenge" is not
// an error when re-applying). Before a LATER approval event is applied, the challenge it names is
// read from its row and restored on demand (#prepareApproval) — fresh, without the earlier
// denial, since a denial's closure is not stored with the row (only 'expired' is). So the writer
// hides the challenge row while node C opens and puts it back afterwards: C re-applies the denial
// to nothing; then an approval signed by approver-1 (offline, "appended later by anyone" — signed
// before the denial, say; appendGovernanceEventAsync refuses it, so the writer appends the row,
// its link being an unkeyed digest) is applied first by C, which restores the challenge on demand
// without the denial, records the approval 'applied' for every node, and runs the denied call.
// Control: without the hidden row, C's open closes the challenge and the approval is rejected.
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
  governanceEventDigest,
  governanceLink,
  signGovernanceEvent,
  verifiedChallenge,
} from '../src/index.ts';
import { approvalTemplate, deployRequest } from './approval-cluster-fixture.ts';
import { nodeDir } from './pg-node-fixture.ts';

const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_deny_hidden');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-denyhid-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const deploy = deployRequest;

const template = (schema: string, quorum = 1) => approvalTemplate(root, db.url, schema, quorum);

describe('red team: a denied challenge hidden from a node while it opens', () => {
  for (const hide of [false, true])
    it(`${hide ? '' : 'control: '}the call denied through A never runs on node C${hide ? " (challenge row hidden during C's open)" : ''}`, async () => {
      const schema = hide ? 'hidden' : 'hidden_ctl';
      const t = await template(schema, 1);
      const a = nodeDir(t, root, `${schema}-a`);
      const c = nodeDir(t, root, `${schema}-c`);
      await attachDatabase(a, { url: db.url, schema });
      await attachDatabase(c, { url: db.url, schema });
      const ra = await GovernedRuntime.open(a, { clock });
      let rc: GovernedRuntime | undefined;
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
        // approver-2 denies; A applies the denial.
        await appendGovernanceEventAsync(a, {
          action: 'approval.deny',
          body: { challenge_id: id },
          signer: signer('approver-2'),
          at: Date.now(),
        });
        // (No retry on A here: a retry would open a second challenge for the same intent, which
        // C would then hold the call on.) A applies the denial at its next ingest: a call of
        // another intent makes it ingest without touching this challenge.
        expect((await ra.execute(deploy('0.0.1'))).status).toBe('ESCALATED');
        expect((await s.governanceApplied()).map((r) => (r.record as { outcome: string }).outcome)).toEqual([
          'applied',
        ]);
        // The writer hides the challenge row while node C opens, then puts it back.
        const row = (
          await sql.query(`SELECT * FROM ${schema}.governance_challenges WHERE challenge_id = $1`, [id])
        ).rows[0];
        if (hide)
          await sql.query(`DELETE FROM ${schema}.governance_challenges WHERE challenge_id = $1`, [id]);
        rc = await GovernedRuntime.open(c, { clock });
        if (hide) {
          const cols = Object.keys(row);
          await sql.query(
            `INSERT INTO ${schema}.governance_challenges (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
            cols.map((k) => row[k]),
          );
        }
        // approver-1 approves afterwards, signing offline (signGovernanceEvent: "appended later
        // by anyone"). appendGovernanceEventAsync refuses it (CHALLENGE_CLOSED: it folds the log),
        // so the writer appends the row itself — the link is an unkeyed digest.
        const envelope = signGovernanceEvent({
          action: 'approval.grant',
          body: { challenge_id: id, statement: approvalStatement(challenge, signer('approver-1')) as never },
          signer: signer('approver-1'),
          at: Date.now(),
          trustAnchor: a.config().trust_anchor,
          chainId: a.governanceLog as string,
        });
        const headRow = await s.governanceEvent(1);
        const h = headRow as NonNullable<typeof headRow>;
        const digestOf = governanceEventDigest(envelope);
        await sql.query(
          `INSERT INTO ${schema}.governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope)
           VALUES (2, $1, $2, $3, 'approval.grant', $4, $5, $6, $7)`,
          [
            digestOf,
            h.chain,
            governanceLink(2, h.chain, digestOf, h.trustSeq),
            signer('approver-1').keyId,
            id,
            h.trustSeq,
            JSON.stringify(envelope),
          ],
        );
        const onC = await rc.execute(deploy('1.0.0'));
        // Today, with the row hidden: SUCCEEDED — the denied call runs on C.
        expect(onC.status).not.toBe('SUCCEEDED');
        expect((await ra.execute(deploy('1.0.0'))).status).not.toBe('SUCCEEDED');
        // And the approval of a denied challenge is not recorded as applied.
        const records = (await s.governanceApplied()).map((r) => r.record as { outcome: string });
        expect(records[1]?.outcome).toBe('rejected');
      } finally {
        await sql.end();
        await s.close();
        await ra.close();
        await rc?.close();
        await a.closeAll();
        await c.closeAll();
        keys.close();
      }
    });
});
