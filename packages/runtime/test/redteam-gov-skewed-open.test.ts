// Red team (I-BUDGET-2's clock rule, I-MULTINODE-2; "clock games"). Attacker: whoever sets one
// node's clock (a broken NTP, a VM restored from a snapshot, an operator's mistake).
//
// Claims under test: "On a shared database a node whose clock is more than 2 s off the
// database's decides nothing (CLOCK_SKEW)", and (runtime.ts, before each decision) "a stale node
// must not apply an event first (its record would bind every node)".
//
// The gap: the skew check runs before each decision only. GovernedRuntime.open ends with
// ingestGovernance(), which applies every pending event FIRST — at the node's own clock, with no
// skew check — so a node whose clock is an hour behind writes the cluster's one application record
// (clock_ms an hour off, which every other node then re-applies at) and signs the administrative
// receipt an hour in the past on its chain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { appendGovernanceEventAsync, attachDatabase, GovernedRuntime } from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'d0'.repeat(32)}`;
const HOUR = 3_600_000;
const db = await createTestDatabase('rt_gov_skew_open');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-skew-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

describe('red team: a node with a skewed clock opens while a governance event is pending', () => {
  it('does not apply the event first at its skewed clock', async () => {
    const schema = 'skew';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const ops = nodeDir(t, root, `${schema}-ops`);
    const c = nodeDir(t, root, `${schema}-c`);
    const policy = t.signer('policy', 'policy');
    t.close();
    await attachDatabase(ops, { url: db.url, schema });
    await attachDatabase(c, { url: db.url, schema });
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'obs', schema, migrate: false });
    let rc: GovernedRuntime | undefined;
    try {
      await appendGovernanceEventAsync(ops, {
        action: 'identity.remove',
        body: { credential_id: 'cred-alice' },
        signer: policy,
        at: Date.now(),
      });
      // Node C's clock is an hour behind.
      const opened = await GovernedRuntime.open(c, { clock: { now: () => Date.now() - HOUR } }).catch(
        (error: { code?: string }) => error,
      );
      if (opened instanceof GovernedRuntime) rc = opened;
      else expect((opened as { code?: string }).code).toBe('CLOCK_SKEW');
      const records = await s.governanceApplied();
      // Either nothing was applied by the skewed node, or what it recorded is at the database's time.
      for (const r of records) {
        const clockMs = (r.record as { clock_ms: number }).clock_ms;
        // Today: one record, clock_ms an hour behind, and an admin receipt on C's chain dated then.
        expect(Math.abs(clockMs - Date.now())).toBeLessThan(60_000);
      }
    } finally {
      await s.close();
      await rc?.close();
      await ops.closeAll();
      await c.closeAll();
    }
  });
});
