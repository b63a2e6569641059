// Red team (I-MULTINODE-2: "a published rotation ... stops it (TRUST_REGISTRY_STALE, nothing
// signed)"; runtime.ts: "a stale node must not apply an event first (its record would bind every
// node)"). Attacker: the executor-key insider whose key the operator has just rotated out, on a
// node that keeps running (or any embedder calling the public API, as the MCP gateway does).
//
// The gap: the freshness precheck guards execute() only. GovernedRuntime#ingestGovernance() — public,
// called by the MCP gateway and at every open — applies pending events first without it, so a node
// that is stale (it still holds the rotated-out executor key) applies a pending event whose row
// names a trust seq it holds — one appended before the rotation was published, or (here) re-dated
// by the database writer — writes the cluster's one application record and SIGNS the administrative
// receipt with the key the registry no longer accepts. Control: an event at the new seq is refused
// (with GOVERNANCE_LOG_INVALID, whose hint says to restore the database from a backup — the log is
// fine, the node is stale).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { keysRotate } from '../../../apps/cli/src/commands/keys-rotate.ts';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  DataDir,
  GovernedRuntime,
  governanceLink,
  publishTrustRegistry,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'d1'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_stale_ingest');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-staleing-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

describe('red team: a stale node applies a governance event through ingestGovernance()', () => {
  for (const rewrite of [false, true])
    it(`applies nothing first and signs nothing once a rotation is published${rewrite ? " (the writer dates the pending event's row at the old trust seq)" : ' (control)'}`, async () => {
      const schema = rewrite ? 'staleing_rw' : 'staleing';
      const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
      const a = nodeDir(t, root, `${schema}-a`);
      await attachDatabase(a, { url: db.url, schema });
      const ra = await GovernedRuntime.open(a, { clock });
      const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
      const policy = t.signer('policy', 'policy');
      t.close();
      try {
        const call = {
          tool: 'pay',
          principal: 'alice',
          args: { i: 1 } as never,
          context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
        };
        expect((await ra.execute(call)).status).toBe('SUCCEEDED');
        // The operator rotates the executor key out and publishes; then removes a credential.
        const ops = new DataDir(t.dir);
        keysRotate(ops, 'executor');
        await publishTrustRegistry(ops, s);
        ops.close();
        const appender = nodeDir(ops, root, `${schema}-ops`);
        await attachDatabase(appender, { url: db.url, schema });
        await appendGovernanceEventAsync(appender, {
          action: 'identity.remove',
          body: { credential_id: 'cred-alice' },
          signer: policy,
          at: Date.now(),
        });
        await appender.closeAll();
        if (rewrite) {
          // The database writer re-dates the pending row at the registry seq node A still holds (the
          // policy key's signature verifies there too; the link is an unkeyed digest).
          const ev = (await s.governanceEvent(1)) as NonNullable<
            Awaited<ReturnType<typeof s.governanceEvent>>
          >;
          const old = ev.trustSeq - 1;
          const sql = await raw(db.url);
          try {
            await sql.query(
              `UPDATE ${schema}.governance_events SET trust_seq = $1, chain = $2 WHERE seq = 1`,
              [old, governanceLink(1, ev.prev, ev.digest, old)],
            );
          } finally {
            await sql.end();
          }
        }
        // As claimed, execute() refuses on the stale node…
        expect((await ra.execute({ ...call, args: { i: 2 } as never })).reason_code).toBe(
          'TRUST_REGISTRY_STALE',
        );
        // …but the public ingest applies the event first on it.
        const ingested = await ra.ingestGovernance().then(
          () => 'applied',
          (error: { code?: string }) => `REFUSED:${String(error.code)}`,
        );
        const receipts = await s.receipts({ chainId: `${schema}-a` });
        const admin = receipts
          .map(
            (r) =>
              JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')) as { tool?: string },
          )
          .filter((b) => b.tool?.startsWith('helm.admin.'));
        // Control: refused (as GOVERNANCE_LOG_INVALID — the event names a trust seq this stale
        // node lacks; TRUST_REGISTRY_STALE would be the true reason). Re-dated: today 'applied', one
        // record, one admin receipt signed with the rotated-out executor key.
        expect({ ingested, records: (await s.governanceApplied()).length, admin: admin.length }).toEqual({
          ingested: expect.stringMatching(/^REFUSED:/),
          records: 0,
          admin: 0,
        });
      } finally {
        await s.close();
        await ra.close();
        await a.closeAll();
      }
    });
});
