// I-GOVERN-2 on a shared database: the grant row is unsigned (a database writer can delete it), so
// `grantsUsed` also finds a grant through the signed decisions that name it — stored with a
// receipt (decisions) or carried by an open admission — base64url payloads decoded in SQL.
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

const db = await createTestDatabase('sp_grants_used');
afterAll(() => db.drop());

/** An envelope-shaped decision whose payload names `grant` (signatures are not read here). */
const decision = (grant: string | null, pad = '') => ({
  type: 'helm.decision.v1',
  payload: Buffer.from(JSON.stringify({ approval_grant_id: grant, pad }), 'utf8').toString('base64url'),
  signatures: [],
});

describe('grantsUsed: a grant is used when its row, or a decision naming it, exists', () => {
  it('attacker: the grant rows are deleted — the decisions and open admissions still name the grants', async () => {
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'n',
      schema: 'gu',
      groupCommit: false,
    });
    const sql = await raw(db.url);
    try {
      expect([...(await s.grantsUsed(['g-row', 'g-dec', 'g-adm', 'g-none']))]).toEqual([]);
      // A used grant's row (admission with a grant), then an open admission carrying its decision.
      await s.admitCall({
        id: 'adm-1',
        sessionId: 's',
        body: {},
        grant: { challengeId: 'g-row', decisionId: 'd-1' },
      });
      await s.admitCall({
        id: 'adm-2',
        sessionId: 's',
        body: { entry: { decision: decision('g-adm') } } as never,
        grant: { challengeId: 'g-adm', decisionId: 'd-2' },
      });
      // A decision stored with its receipt; payload lengths that need 0, 1 and 2 '=' of padding.
      for (const [i, pad] of ['', 'x', 'xy'].entries())
        await sql.query('INSERT INTO gu.decisions (decision_id, session_id, envelope) VALUES ($1, $2, $3)', [
          `d-${10 + i}`,
          's',
          JSON.stringify(decision(i === 0 ? 'g-dec' : null, pad)),
        ]);
      expect([...(await s.grantsUsed(['g-row', 'g-dec', 'g-adm', 'g-none']))].sort()).toEqual([
        'g-adm',
        'g-dec',
        'g-row',
      ]);
      // The decisions are found through their expression index, not by reading every decision.
      await sql.query('SET enable_seqscan = off');
      const plan = await sql.query(
        `EXPLAIN SELECT 1 FROM gu.decisions WHERE gu.decision_grant(envelope) IS NOT NULL AND gu.decision_grant(envelope) = ANY($1::text[])`,
        [['g-dec']],
      );
      expect(plan.rows.map((r) => String(r['QUERY PLAN'])).join('\n')).toContain('decisions_by_grant');
      // The writer deletes every grant row: the signed records still say which were used.
      await sql.query('DELETE FROM gu.governance_grants');
      expect([...(await s.grantsUsed(['g-row', 'g-dec', 'g-adm', 'g-none']))].sort()).toEqual([
        'g-adm',
        'g-dec',
      ]);
    } finally {
      await sql.end();
      await s.close();
    }
  });
});
