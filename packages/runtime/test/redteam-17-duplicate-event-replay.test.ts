// Red team #17 (I-GOVERN-1, I-RULES-1): the governance log's "each event exactly once" rests on the
// store's UNIQUE(digest) constraint alone — `verifyGovernanceLog` never checks that a digest occurs
// once. A data-directory writer (no keys) rebuilds `governance_events` without the constraint and
// appends a byte-identical copy of an old, validly signed `identity.add` after the `identity.remove`
// that undid it (links are unkeyed hashes it can compute). The next runtime verifies the log, applies
// the copy as a new event, and the removed credential authenticates again.
import { join } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { governanceLink, identityAdd, identityRemove } from '../src/index.ts';
import {
  FINGERPRINT,
  freshGovernance,
  ManualClock,
  T0,
  withData,
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

const bobEcho = {
  tool: 'echo',
  principal: 'alice',
  args: { hi: 1 },
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-bob' },
};

async function outcome(dir: string, clock: ManualClock): Promise<string> {
  try {
    return await withRuntime(dir, clock, async (rt) => {
      const r = await rt.execute(bobEcho);
      return `${r.status} ${r.reason_code}`;
    });
  } catch (error) {
    return `refused ${(error as { code?: string }).code}`;
  }
}

describe('redteam-17 I-GOVERN-1: a signed event re-appended by a data-dir writer is applied twice', () => {
  it('a removed credential binding stays removed (the copy is refused, GOVERNANCE_LOG_INVALID)', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    withData(dir, (data) => {
      const policy = data.localKey('policy').signer;
      identityAdd(data, { credential_id: 'cred-bob', principal: 'alice' }, policy, T0);
      identityRemove(data, 'cred-bob', policy, T0 + 1);
    });
    clock.set(T0 + 10);
    const before = await outcome(dir, clock);
    expect(before.startsWith('DENIED'), before).toBe(true);

    // The writer: drop UNIQUE(digest), then append event 1 again at the head.
    sql(dir, (db) => {
      db.exec(`
        CREATE TABLE ge2 (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, prev TEXT NOT NULL, chain TEXT NOT NULL,
          action TEXT NOT NULL, signer TEXT NOT NULL, subject TEXT, trust_seq INTEGER NOT NULL, envelope TEXT NOT NULL);
        INSERT INTO ge2 SELECT seq, digest, prev, chain, action, signer, subject, trust_seq, envelope FROM governance_events;
        DROP TABLE governance_events;
        ALTER TABLE ge2 RENAME TO governance_events;
        CREATE INDEX governance_events_by_subject ON governance_events (subject, seq);`);
      const first = db.prepare('SELECT * FROM governance_events WHERE seq = 1').get() as Record<
        string,
        never
      >;
      const head = db.prepare('SELECT seq, chain FROM governance_events ORDER BY seq DESC LIMIT 1').get() as {
        seq: number;
        chain: string;
      };
      expect(first.action).toBe('identity.add');
      const seq = head.seq + 1;
      db.prepare(
        'INSERT INTO governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        seq,
        first.digest,
        head.chain,
        governanceLink(seq, head.chain, first.digest, first.trust_seq),
        first.action,
        first.signer,
        first.subject,
        first.trust_seq,
        first.envelope,
      );
    });

    clock.advance(1_000);
    const after = await outcome(dir, clock);
    // Expected: the log is refused (the same signed event twice), or at least cred-bob stays unbound.
    expect(after.startsWith('SUCCEEDED'), `after the replayed identity.add: ${after}`).toBe(false);
  });
});
