// Red team controls (I-GOVERN-1, I-MULTINODE-2) on a shared database — claims that held against
// the database writer: an application record edited after every node applied it refuses the next
// node's open; a log tail deleted while nodes run refuses their next decision; an applied event
// re-appended at a new position (links recomputed: they are unkeyed) refuses the next decision.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  GovernedRuntime,
  governanceAppliedLink,
  governanceLink,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'ce'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_log_ctl');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-logctl-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const call = (i: number, credential = 'cred-alice') => ({
  tool: 'pay',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: credential },
});

async function outcome(rt: GovernedRuntime, i: number, credential = 'cred-alice'): Promise<string> {
  try {
    const r = await rt.execute(call(i, credential));
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}

/** Nodes A and B on `schema`, two applied events (identity.add cred-bob, identity.remove cred-bob). */
async function cluster(schema: string) {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  const c = nodeDir(t, root, `${schema}-c`);
  for (const d of [a, b, c]) await attachDatabase(d, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  const sql = await raw(db.url);
  const policy = t.signer('policy', 'policy');
  t.close();
  await appendGovernanceEventAsync(a, {
    action: 'identity.add',
    body: { credential_id: 'cred-bob', principal: 'alice' },
    signer: policy,
    at: Date.now(),
  });
  expect(await outcome(ra, 1, 'cred-bob')).toBe('SUCCEEDED');
  await appendGovernanceEventAsync(a, {
    action: 'identity.remove',
    body: { credential_id: 'cred-bob' },
    signer: policy,
    at: Date.now(),
  });
  expect(await outcome(rb, 2, 'cred-bob')).toMatch(/^DENIED:/);
  expect(await outcome(ra, 3, 'cred-bob')).toMatch(/^DENIED:/);
  expect((await s.governanceApplied()).map((r) => r.seq)).toEqual([1, 2]);
  const close = async () => {
    await sql.end();
    await s.close();
    await ra.close();
    await rb.close();
    await a.closeAll();
    await b.closeAll();
    await c.closeAll();
  };
  return { c, ra, rb, s, sql, close };
}

describe('red team controls: the shared governance log against the database writer', () => {
  it('a past application record flipped to "rejected" (links recomputed) refuses the next node that opens', async () => {
    const n = await cluster('ctl_edit');
    try {
      const [r1, r2] = await n.s.governanceApplied();
      const record = {
        ...(r2?.record as Record<string, unknown>),
        outcome: 'rejected',
        code: 'KEY_NOT_VALID',
        detail: 'x',
      };
      const chain = governanceAppliedLink(r1?.chain as string, 2, r2?.digest as string, record as never);
      await n.sql.query(`UPDATE ctl_edit.governance_applied SET record = $1, chain = $2 WHERE seq = 2`, [
        JSON.stringify(record),
        chain,
      ]);
      const opened = await GovernedRuntime.open(n.c, { clock }).catch((error: { code?: string }) => error);
      expect(opened).not.toBeInstanceOf(GovernedRuntime);
      expect((opened as { code?: string }).code).toBe('GOVERNANCE_LOG_INVALID');
    } finally {
      await n.close();
    }
  });

  it('the log tail deleted while the nodes run refuses their next decision', async () => {
    const n = await cluster('ctl_tail');
    try {
      await n.sql.query('DELETE FROM ctl_tail.governance_applied WHERE seq = 2');
      await n.sql.query('DELETE FROM ctl_tail.governance_events WHERE seq = 2');
      expect(await outcome(n.rb, 4, 'cred-bob')).toBe('REFUSED:GOVERNANCE_LOG_INVALID');
      expect(await outcome(n.ra, 5, 'cred-bob')).toBe('REFUSED:GOVERNANCE_LOG_INVALID');
    } finally {
      await n.close();
    }
  });

  it('an applied event re-appended at a new position (its link recomputed) refuses the next decision', async () => {
    const n = await cluster('ctl_dup');
    try {
      const first = await n.s.governanceEvent(1);
      const head = await n.s.governanceEvent(2);
      const f = first as NonNullable<typeof first>;
      const chain = governanceLink(3, (head as NonNullable<typeof head>).chain, f.digest, f.trustSeq);
      // UNIQUE(digest) would refuse the row: the writer drops it first, as I-GOVERN-1 anticipates.
      const constraint = await n.sql.query(
        `SELECT conname FROM pg_constraint WHERE conrelid = 'ctl_dup.governance_events'::regclass AND contype = 'u'`,
      );
      for (const r of constraint.rows)
        await n.sql.query(`ALTER TABLE ctl_dup.governance_events DROP CONSTRAINT ${r.conname}`);
      await n.sql.query(
        `INSERT INTO ctl_dup.governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope)
         VALUES (3, $1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          f.digest,
          (head as NonNullable<typeof head>).chain,
          chain,
          f.action,
          f.signer,
          f.subject,
          f.trustSeq,
          JSON.stringify(f.envelope),
        ],
      );
      // Re-adding cred-bob must not happen: the repeat is refused.
      expect(await outcome(n.rb, 6, 'cred-bob')).toBe('REFUSED:GOVERNANCE_LOG_INVALID');
    } finally {
      await n.close();
    }
  });
});
