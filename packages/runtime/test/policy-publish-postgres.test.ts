// I-MULTINODE-2 (policy bundle). A P1 bundle published through the shared database's governance log
// (`policy.publish`) is in force on every node before its next decision. The attacker's view: a node
// that has not applied the new bundle decides under the old one; the database writer edits the
// published bundle's bytes, deletes its row or the (unsigned) floor row, or puts back an older
// genuine bundle; two administrators publish at once and the nodes end up under different bundles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { type Signer, signEnvelope } from '@helm/crypto';
import { envelopeBody, GOVERNANCE_GENESIS_PREV, verifyEvidencePack } from '@helm/evidencepack';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  attachDatabase,
  exportPackFrom,
  GovernedRuntime,
  governanceEventDigest,
  governanceLink,
  publishPolicyBundle,
  signGovernanceEvent,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'d7'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_policy_publish');
const root = mkdtempSync(join(tmpdir(), 'helm-policy-publish-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const call = (i: number) => ({
  tool: 'pay',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

async function outcome(rt: GovernedRuntime, i: number): Promise<string> {
  try {
    const r = await rt.execute(call(i));
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}

/** Version `version` of the deployment's bundle `rules`: alice allowed or not. */
function bundle(policy: Signer, version: number, allowAlice: boolean, name = 'rules'): SignedEnvelope {
  return signEnvelope(
    {
      type: 'helm.policy.bundle.v1',
      name,
      version,
      rules: allowAlice ? [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }] : [],
    } as never,
    [policy],
  );
}

/** Two running nodes and an administrator's directory (the template), all on `schema`. */
async function cluster(schema: string) {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  const c = nodeDir(t, root, `${schema}-c`);
  const admin = nodeDir(t, root, `${schema}-admin`);
  // The policy key (every node directory is a copy of the template: the same keys).
  const policy = t.signer('policy', 'policy');
  t.close();
  for (const d of [a, b, c, admin]) await attachDatabase(d, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  const sql = await raw(db.url);
  const opened: GovernedRuntime[] = [];
  const close = async () => {
    await sql.end();
    await s.close();
    for (const r of [ra, rb, ...opened]) await r.close().catch(() => undefined);
    for (const d of [a, b, c, admin]) await d.closeAll();
  };
  return { a, b, c, admin, policy, ra, rb, s, sql, opened, close };
}

describe('policy.publish on a shared database (PostgreSQL)', () => {
  it('a bundle published by an administrator is in force on every running node at its next decision', async () => {
    const n = await cluster('pub_next');
    try {
      expect(await outcome(n.ra, 1)).toBe('SUCCEEDED');
      expect(await outcome(n.rb, 2)).toBe('SUCCEEDED');
      const before = n.rb.guardian.policyHash();
      await publishPolicyBundle(n.admin, bundle(n.policy, 2, false), n.policy, Date.now());
      // Neither node was told: each must apply version 2 before it decides, never decide under 1.
      expect(await outcome(n.rb, 3)).toMatch(/^DENIED:/);
      expect(await outcome(n.ra, 4)).toMatch(/^DENIED:/);
      expect(n.rb.guardian.policyHash()).not.toBe(before);
      expect(n.ra.guardian.policyHash()).toBe(n.rb.guardian.policyHash());
      // One application record for the cluster, outcome applied.
      const applied = await n.s.governanceApplied();
      expect(applied.map((r) => (r.record as { outcome: string }).outcome)).toEqual(['applied']);
      // A node opening later from a directory that still holds version 1 decides under version 2.
      const rc = await GovernedRuntime.open(n.c, { clock });
      n.opened.push(rc);
      expect(await outcome(rc, 5)).toMatch(/^DENIED:/);
      expect(rc.guardian.policyHash()).toBe(n.ra.guardian.policyHash());
      // Version 3 allows alice again: published the same way, obeyed everywhere.
      await publishPolicyBundle(n.admin, bundle(n.policy, 3, true), n.policy, Date.now());
      expect(await outcome(rc, 6)).toBe('SUCCEEDED');
      expect(await outcome(n.ra, 7)).toBe('SUCCEEDED');
    } finally {
      await n.close();
    }
  });

  it("I-GOVERN-1: one helm.admin.policy.publish receipt cluster-wide, on the first applier's chain; both chains' packs verify", async () => {
    const n = await cluster('pub_receipt');
    try {
      expect(await outcome(n.ra, 1)).toBe('SUCCEEDED');
      const published = await publishPolicyBundle(n.admin, bundle(n.policy, 2, false), n.policy, Date.now());
      // rb applies it first (its receipt), ra re-applies the record (no second receipt).
      expect(await outcome(n.rb, 2)).toMatch(/^DENIED:/);
      expect(await outcome(n.ra, 3)).toMatch(/^DENIED:/);
      const admin = async (chainId: string) =>
        (await n.s.receipts({ chainId }))
          .map((r) => envelopeBody<{ tool: string; principal: string; decision_id: string }>(r.envelope))
          .filter((b) => b.tool.startsWith('helm.admin.'));
      expect(await admin(n.b.config().chain_id)).toEqual([
        expect.objectContaining({
          tool: 'helm.admin.policy.publish',
          principal: n.policy.keyId,
          decision_id: published.digest,
        }),
      ]);
      expect(await admin(n.a.config().chain_id)).toEqual([]);
      for (const d of [n.a, n.b]) {
        const pack = await exportPackFrom(d, n.s, {});
        const report = await verifyEvidencePack(pack.bytes, { trustAnchor: d.config().trust_anchor });
        expect(report.status, JSON.stringify(report.checks.filter((c) => c.status !== 'PASS'))).toBe('PASS');
        expect(report.checks.find((c) => c.code === 'DECISIONS')?.status).toBe('PASS');
      }
    } finally {
      await n.close();
    }
  });

  it('an older, equal or differently named bundle is refused at publication; appended past the check it is rejected, never in force', async () => {
    const n = await cluster('pub_rollback');
    try {
      const policy = n.policy;
      await publishPolicyBundle(n.admin, bundle(n.policy, 3, false), policy, Date.now());
      expect(await outcome(n.ra, 1)).toMatch(/^DENIED:/);
      for (const [v, name] of [
        [2, 'rules'],
        [3, 'rules'],
        [9, 'other'],
      ] as const)
        await expect(
          publishPolicyBundle(n.admin, bundle(n.policy, v, true, name), policy, Date.now()),
        ).rejects.toMatchObject({ code: 'POLICY_INVALID' });
      // A policy-key holder (or a writer replaying a signed statement) writes version 2 straight
      // into the log, past the check.
      const registry = await n.a.registryAsync();
      const envelope = signGovernanceEvent({
        action: 'policy.publish',
        body: { bundle: bundle(n.policy, 2, true) } as never,
        signer: policy,
        at: Date.now(),
        trustAnchor: n.a.config().trust_anchor,
        chainId: n.a.governanceLog as string,
      });
      const eventDigest = governanceEventDigest(envelope);
      await n.s.appendGovernanceEvent((head) => {
        const seq = (head?.seq ?? 0) + 1;
        const prev = head?.chain ?? GOVERNANCE_GENESIS_PREV;
        return {
          seq,
          digest: eventDigest,
          prev,
          chain: governanceLink(seq, prev, eventDigest, registry.seq),
          action: 'policy.publish',
          signer: policy.keyId,
          subject: null,
          trustSeq: registry.seq,
          envelope,
        };
      });
      expect(await outcome(n.rb, 2)).toMatch(/^DENIED:/);
      expect(await outcome(n.ra, 3)).toMatch(/^DENIED:/);
      const records = (await n.s.governanceApplied()).map(
        (r) => r.record as { outcome: string; code: string },
      );
      expect(records.map((r) => r.outcome)).toEqual(['applied', 'rejected']);
      expect(records[1]?.code).toBe('POLICY_INVALID');
    } finally {
      await n.close();
    }
  });

  it('the floor is the signed log: deleting the unsigned floor row does not let an older directory decide', async () => {
    const n = await cluster('pub_floor');
    try {
      await publishPolicyBundle(n.admin, bundle(n.policy, 2, false), n.policy, Date.now());
      expect(await outcome(n.ra, 1)).toMatch(/^DENIED:/);
      await n.sql.query(
        `DELETE FROM pub_floor.documents WHERE namespace = 'meta' AND doc_key = 'policy-floor'`,
      );
      // Node C's directory holds version 1 (allow): it opens and still decides under version 2.
      const rc = await GovernedRuntime.open(n.c, { clock });
      n.opened.push(rc);
      expect(await outcome(rc, 2)).toMatch(/^DENIED:/);
    } finally {
      await n.close();
    }
  });

  it("the database writer edits the published bundle's bytes: the next node to decide or open refuses", async () => {
    const n = await cluster('pub_edit');
    try {
      await publishPolicyBundle(n.admin, bundle(n.policy, 2, false), n.policy, Date.now());
      expect(await outcome(n.ra, 1)).toMatch(/^DENIED:/);
      // The writer swaps in another genuine bundle (version 2 allowing alice) inside the event.
      const row = await n.s.governanceEvent(1);
      const forged = { ...(row?.envelope as SignedEnvelope) };
      const body = JSON.parse(Buffer.from(forged.payload, 'base64url').toString('utf8'));
      body.body.bundle = bundle(n.policy, 2, true);
      forged.payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      await n.sql.query(`UPDATE pub_edit.governance_events SET envelope = $1 WHERE seq = 1`, [
        JSON.stringify(forged),
      ]);
      const opened = await GovernedRuntime.open(n.c, { clock }).catch((error: { code?: string }) => error);
      if (opened instanceof GovernedRuntime) n.opened.push(opened);
      expect(opened).not.toBeInstanceOf(GovernedRuntime);
      expect((opened as { code?: string }).code).toBe('GOVERNANCE_LOG_INVALID');
      expect(await outcome(n.ra, 2)).not.toBe('SUCCEEDED');
    } finally {
      await n.close();
    }
  });

  it('the database writer deletes the publication (event and record): a node that applied it refuses, a node opening refuses', async () => {
    const n = await cluster('pub_delete');
    try {
      await publishPolicyBundle(n.admin, bundle(n.policy, 2, false), n.policy, Date.now());
      expect(await outcome(n.ra, 1)).toMatch(/^DENIED:/);
      await n.sql.query('DELETE FROM pub_delete.governance_applied WHERE seq = 1');
      await n.sql.query('DELETE FROM pub_delete.governance_events WHERE seq = 1');
      // A, which applied it, refuses; C, opening, finds the guardian-signed cursor past the log.
      expect(await outcome(n.ra, 2)).toBe('REFUSED:GOVERNANCE_LOG_INVALID');
      const opened = await GovernedRuntime.open(n.c, { clock }).catch((error: { code?: string }) => error);
      if (opened instanceof GovernedRuntime) n.opened.push(opened);
      expect((opened as { code?: string }).code).toBe('GOVERNANCE_LOG_INVALID');
      // (B never read the publication before it was deleted: it cannot tell the log from one that
      // never held it — withholding, docs/spec/multi-node.md §3.1 "what stays open".)
    } finally {
      await n.close();
    }
  });

  it('two administrators publishing at once: one order, every node under the same bundle', async () => {
    const n = await cluster('pub_race');
    try {
      const policy = n.policy;
      const results = await Promise.allSettled([
        publishPolicyBundle(n.admin, bundle(n.policy, 2, false), policy, Date.now()),
        publishPolicyBundle(n.c, bundle(n.policy, 3, true), n.policy, Date.now()),
      ]);
      for (const r of results)
        if (r.status === 'rejected')
          expect(['STORE_GOVERNANCE_CONFLICT', 'POLICY_INVALID']).toContain(
            (r.reason as { code?: string }).code,
          );
      const [x, y] = await Promise.all([outcome(n.ra, 1), outcome(n.rb, 2)]);
      expect(x.startsWith('SUCCEEDED') ? 'allow' : 'deny').toBe(y.startsWith('SUCCEEDED') ? 'allow' : 'deny');
      expect(n.ra.guardian.policyHash()).toBe(n.rb.guardian.policyHash());
      const events = await n.s.governanceEvents();
      const applied = await n.s.governanceApplied();
      expect(applied.length).toBe(events.length);
      expect(events.length).toBeGreaterThanOrEqual(1);
    } finally {
      await n.close();
    }
  });
});
