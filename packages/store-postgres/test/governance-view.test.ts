// I-GOVERN-1: governanceView is ONE snapshot (item 2 of #25): a node opening while another node applies a
// governance event (event, record, cursor and a grant in one transaction) reads the application
// entirely or not at all. The application is made to commit in the middle of the view's reads,
// deterministically: the applying session holds the cursor table locked, the view's read of it
// waits (observed in pg_stat_activity, not by time), the application commits, the read goes on.
// Separate statements in READ COMMITTED would return the record without the cursor (a torn view).
import type { SignedEnvelope } from '@helm/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

const db = await createTestDatabase('gov_view');
afterAll(() => db.drop());

const env = (payload: string): SignedEnvelope => ({
  type: 'helm.test.governance.v1',
  payload,
  signatures: [{ keyid: `ed25519:${'a'.repeat(64)}`, sig: 'x' }],
});
const h = (c: string | number) => `sha256:${String(c).padStart(64, '0')}`;

describe('governanceView: one consistent read', () => {
  it('an application committed while the view is being read is in it entirely or not at all', async () => {
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'opening', schema: 'gv' });
    const applier = await raw(db.url);
    const watcher = await raw(db.url);
    try {
      // The log holds events 1 and 2; event 1 is applied.
      for (const seq of [1, 2])
        await s.appendGovernanceEvent((head) => ({
          seq,
          digest: h(`e${seq}`),
          prev: head?.chain ?? h(0),
          chain: h(`c${seq}`),
          action: 'approval.grant',
          signer: `ed25519:${'a'.repeat(64)}`,
          subject: null,
          trustSeq: 1,
          envelope: env(`event-${seq}`),
        }));
      await s.applyGovernanceEvent({
        seq: 1,
        digest: h('e1'),
        chain: h('a1'),
        record: { seq: 1 },
        cursor: env('cursor-1'),
      });
      const before = await s.governanceView();
      expect([before.applied.length, before.cursor?.payload, before.grants.length]).toEqual([
        1,
        'cursor-1',
        0,
      ]);

      // Another node applies event 2: its record, the cursor and a grant, in one transaction that
      // holds the cursor table until the view is waiting on it.
      await applier.query('BEGIN');
      await applier.query('LOCK TABLE gv.governance_cursor IN ACCESS EXCLUSIVE MODE');
      const view = s.governanceView();
      for (;;) {
        const { rows } = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = 'helm:opening'`,
        );
        if (rows[0].n > 0) break;
        await watcher.query('SELECT pg_sleep(0.002)');
      }
      await applier.query(
        `INSERT INTO gv.governance_applied (seq, digest, chain, record) VALUES (2, $1, $2, '{"seq":2}')`,
        [h('e2'), h('a2')],
      );
      await applier.query(`UPDATE gv.governance_cursor SET envelope = $1 WHERE id = 1`, [
        JSON.stringify(env('cursor-2')),
      ]);
      await applier.query(
        `INSERT INTO gv.governance_grants (challenge_id, decision_id, admission_id) VALUES ('ch', 'd', 'a')`,
      );
      await applier.query('COMMIT');
      const v = await view;
      const applied = v.applied.length;
      // Whole or nothing: the cursor and the grant move with the record.
      expect([v.cursor?.payload, v.grants.length]).toEqual(applied === 2 ? ['cursor-2', 1] : ['cursor-1', 0]);
      expect(applied).toBe(1); // the snapshot was taken before the application committed
      const after = await s.governanceView();
      expect([after.applied.length, after.cursor?.payload, after.grants.length]).toEqual([2, 'cursor-2', 1]);
    } finally {
      await applier.end();
      await watcher.end();
      await s.close();
    }
  });
});
