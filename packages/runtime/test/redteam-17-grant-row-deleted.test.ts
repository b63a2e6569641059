// Red team #17 (I-GOVERN-2): a data-directory writer (no keys) deletes the consumed grant's row
// from `governance_grants`. The receipt chain still holds the SUCCEEDED receipt of the call that
// consumed it (its decision names the grant), but the next runtime re-opens the challenge, re-applies
// the two approvals, and runs the approved call a SECOND time on the same one-time grant.
import { join } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import {
  approve,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  TIMELOCK,
  withRuntime,
} from './governance-fixture.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

function sql(dir: string, fn: (db: DatabaseSyncType) => void): void {
  const db = new DatabaseSync(join(dir, 'helm.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe('redteam-17 I-GOVERN-2: a consumed one-time grant restored by deleting its store row', () => {
  it('the approved call runs at most once, whatever a data-dir writer deletes', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await withRuntime(dir, clock, async (rt) => {
      const held = await rt.execute(deployCall());
      expect(held.status).toBe('ESCALATED');
      return held.approval_challenge_id as string;
    });
    approve(dir, id, 'approver-1', T0 + 1);
    approve(dir, id, 'approver-2', T0 + 2);
    clock.set(T0 + TIMELOCK + 1);
    const first = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(first.status).toBe('SUCCEEDED');

    // The data-directory writer: one DELETE, no key, no signature touched.
    sql(dir, (db) => db.exec('DELETE FROM governance_grants'));

    clock.advance(1_000);
    // A refusal counts whether it comes from the call or from the runtime's open (the fix refuses
    // the open: a used grant without its row is tampering, GOVERNANCE_LOG_INVALID).
    let second: { status: string };
    try {
      second = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    } catch (error) {
      second = { status: `refused ${(error as { code?: string }).code}` };
    }
    expect(second.status).toBe('refused GOVERNANCE_LOG_INVALID');
    // The second run consumed the very same challenge's grant again (a new grant row for `id`).
    let regranted: unknown;
    sql(dir, (db) => {
      regranted = db.prepare('SELECT challenge_id FROM governance_grants').all();
    });
    console.log('grant rows after the second run:', JSON.stringify(regranted), 'challenge', id);
    // Expected: refused (the chain shows the grant was used) or a NEW challenge — never a second run
    // under the consumed grant.
    expect(
      (second as { status: string; approval_challenge_id?: string }).status === 'SUCCEEDED',
      `second run: ${JSON.stringify(second).slice(0, 300)}`,
    ).toBe(false);
  });
});
