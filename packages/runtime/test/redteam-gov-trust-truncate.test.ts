// Red team (I-MULTINODE-2, I-GOVERN-1). Attackers: whoever holds a policy key the operator has
// just rotated out (it was compromised), together with the database writer (any row, no keys).
//
// Claim under test (I-MULTINODE-2): "Before each decision the node reads the database's
// trust-event count, their digest and clock: a published rotation ... stops it
// (TRUST_REGISTRY_STALE, nothing signed)", and an event is applied only while its signer holds
// the role at the registry head.
//
// The attack: after the rotation is published (nodes stop, as claimed), the writer deletes the
// rotation's row from the database's trust registry. The freshness read now matches what the
// running node loaded at open again — the node keeps no floor of the registry it has SEEN — so it
// would resume deciding under the registry in which the compromised key still holds `policy`.
// Held: a running node that saw the rotation stays refused. Not held: the node restarted (what
// TRUST_REGISTRY_STALE asks for) opens on the truncated registry — its data directory and the
// database keep no floor of the registry it saw — and an identity binding signed by the rotated-out
// key (accepted by appendGovernanceEventAsync against the truncated registry) is applied and obeyed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  DataDir,
  GovernedRuntime,
  publishTrustRegistry,
  rotateKey,
} from '../src/index.ts';
import { nodeDir, payOutcome, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_trust_trunc');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-trunc-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const outcome = (rt: GovernedRuntime, i: number, credential: string) =>
  payOutcome(rt, FINGERPRINT, i, credential);

describe('red team: the database writer deletes a published key rotation', () => {
  it('a node that saw the rotation does not return to the registry before it (running: held; restarted: not)', async () => {
    const schema = 'trunc';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const a = nodeDir(t, root, `${schema}-a`);
    await attachDatabase(a, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
    const c = await raw(db.url);
    // The policy key's seed, held by the attacker from before the rotation.
    const compromised = t.signer('policy', 'policy');
    t.close();
    try {
      expect(await outcome(ra, 1, 'cred-alice')).toBe('SUCCEEDED');
      // The operator rotates the compromised policy key out and publishes the registry.
      const ops = new DataDir(t.dir);
      rotateKey(ops, 'policy');
      const pub = await publishTrustRegistry(ops, s);
      ops.close();
      expect(pub.written).toBe(1);
      // As claimed, node A stops deciding on its older registry.
      expect(await outcome(ra, 2, 'cred-alice')).toBe('DENIED:TRUST_REGISTRY_STALE');
      // The database writer deletes the rotation's row: the registry is back at what A loaded.
      const del = await c.query(
        `DELETE FROM ${schema}.documents WHERE namespace = 'trust' AND doc_key = (SELECT max(doc_key) FROM ${schema}.documents WHERE namespace = 'trust')`,
      );
      expect(del.rowCount).toBe(1);
      // The compromised key binds the attacker's credential (accepted against the truncated registry).
      let appended = true;
      await appendGovernanceEventAsync(a, {
        action: 'identity.add',
        body: { credential_id: 'cred-mallory', principal: 'alice' },
        signer: compromised,
        at: Date.now(),
      }).catch(() => {
        appended = false;
      });
      const onA = [await outcome(ra, 3, 'cred-alice'), await outcome(ra, 4, 'cred-mallory')];
      // Control (held): the running node stays refused — it remembers it is stale.
      expect(onA).toEqual(['DENIED:TRUST_REGISTRY_STALE', 'DENIED:TRUST_REGISTRY_STALE']);
      // The operator does what TRUST_REGISTRY_STALE asks: restart the node. It opens on the
      // truncated registry — nothing on its disk or in the database it checks says a rotation
      // was ever published — and obeys the compromised key's binding.
      await ra.close();
      const again = await GovernedRuntime.open(a, { clock }).catch((error: Error) => error);
      if (!(again instanceof GovernedRuntime)) {
        expect((again as { code?: unknown }).code).toMatch(/^[A-Z_]+$/);
        return;
      }
      try {
        const onRestart = await outcome(again, 5, 'cred-mallory');
        // Today: SUCCEEDED — the rotation is undone cluster-wide for every restarted node.
        expect({ appended, onRestart }).toEqual({
          appended,
          onRestart: expect.not.stringMatching(/^SUCCEEDED$/),
        });
      } finally {
        await again.close();
      }
    } finally {
      await c.end();
      await s.close();
      await ra.close();
      await a.closeAll();
    }
  });
});
