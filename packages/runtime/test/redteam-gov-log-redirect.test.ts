// Red team (I-GOVERN-1, I-RULES-1, I-MULTINODE-2). Attacker: the database writer of production
// (any row of HELM's schema, no keys), who can also read a staging deployment made from the same
// data directory (one trust root, the same keys — docs/deployment.md's copies of one directory).
//
// Claim under test (store-select.ts publishTrustRegistry): "The database's one governance log is
// named once, at random: an event signed for this database's log does not verify on another
// database of the same trust root (a staging copy)."
//
// The attack: the log's name is an unsigned document row (`meta/governance-log`). The writer sets
// production's to staging's name and copies staging's governance events verbatim (their links do
// not involve the name). Every node that opens afterwards (a restart, a new node, a reopen forced
// by a trust rotation) verifies the log against the name it reads from the same database, so
// staging's events — here an identity binding of a throw-away test credential — are applied in
// production: a credential never bound in production runs calls there.
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
  publishTrustRegistry,
} from '../src/index.ts';
import { nodeDir, payOutcome, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c9'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_log_redirect');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-redirect-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const outcome = (rt: GovernedRuntime, i: number, credential: string) =>
  payOutcome(rt, FINGERPRINT, i, credential);

/** Staging and production: one template directory (one root, one set of keys), two databases. */
async function deployments() {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, 'stg');
  const p = await openPostgresStore({
    connectionString: db.url,
    nodeId: 'setup',
    schema: 'prod',
    groupCommit: false,
  });
  try {
    await publishTrustRegistry(t, p);
  } finally {
    await p.close();
  }
  const policy = t.signer('policy', 'policy');
  t.close();
  // Staging: an operator binds a throw-away test credential (a legitimate staging action).
  const stg = nodeDir(t, root, 'stg-a');
  await attachDatabase(stg, { url: db.url, schema: 'stg' });
  await appendGovernanceEventAsync(stg, {
    action: 'identity.add',
    body: { credential_id: 'cred-staging-test', principal: 'alice' },
    signer: policy,
    at: Date.now(),
  });
  await stg.closeAll();
  // Production's node directory; it attaches (reads the database's log name) when it starts.
  return nodeDir(t, root, 'prod-a');
}

describe("red team: production's governance log renamed to staging's", () => {
  it('control: the staging credential is unknown in production', async () => {
    const prod = await deployments();
    await attachDatabase(prod, { url: db.url, schema: 'prod' });
    const rt = await GovernedRuntime.open(prod, { clock });
    try {
      expect(await outcome(rt, 1, 'cred-alice')).toBe('SUCCEEDED');
      expect(await outcome(rt, 2, 'cred-staging-test')).toMatch(/^DENIED:GATE_IDENTITY/);
    } finally {
      await rt.close();
      await prod.closeAll();
    }
  });

  it("a node opened after the writer points production at staging's log does not apply staging's events", async () => {
    // Fresh schemas for this case.
    await (async () => {
      const c = await raw(db.url);
      try {
        await c.query('DROP SCHEMA IF EXISTS stg CASCADE');
        await c.query('DROP SCHEMA IF EXISTS prod CASCADE');
      } finally {
        await c.end();
      }
      rmSync(join(root, 't-stg'), { recursive: true, force: true });
      rmSync(join(root, 'stg-a'), { recursive: true, force: true });
      rmSync(join(root, 'prod-a'), { recursive: true, force: true });
    })();
    const prod = await deployments();
    const c = await raw(db.url);
    let rt: GovernedRuntime | undefined;
    try {
      // The database writer: rename production's log to staging's and copy staging's events.
      const renamed = await c.query(
        `UPDATE prod.documents SET value = (SELECT value FROM stg.documents WHERE namespace = 'meta' AND doc_key = 'governance-log')
         WHERE namespace = 'meta' AND doc_key = 'governance-log'`,
      );
      expect(renamed.rowCount).toBe(1);
      const copied = await c.query('INSERT INTO prod.governance_events SELECT * FROM stg.governance_events');
      expect(copied.rowCount).toBe(1);
      // A production node (re)starts: it attaches to the database and opens.
      await attachDatabase(prod, { url: db.url, schema: 'prod' });
      const opened = await GovernedRuntime.open(prod, { clock }).catch((error: { code?: string }) => error);
      if (!(opened instanceof GovernedRuntime)) {
        // Refusing to open on a log that is not this database's is a correct answer.
        expect(opened.code).toMatch(/^(GOVERNANCE_LOG_INVALID|DATABASE_TRUST_MISMATCH)$/);
        return;
      }
      rt = opened;
      // Today: SUCCEEDED — staging's binding is in force in production.
      expect(await outcome(rt, 3, 'cred-staging-test')).not.toBe('SUCCEEDED');
    } finally {
      await c.end();
      await rt?.close();
      await prod.closeAll();
    }
  });
});
