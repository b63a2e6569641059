// I-MULTINODE-2 / I-GOVERN-2. Several runtime nodes, one governance log (docs/spec/multi-node.md §3.1 "Several nodes, one
// log"), on a real PostgreSQL database. The attacker's view: an operator revokes a credential (or
// adds one) through one node's data directory while two nodes serve; a node that does not apply
// the event before its next decision keeps obeying the old rules — a revoked credential still runs
// calls on the other node. And two nodes that both find a new event must not both record it (two
// records, two admin receipts) nor hold different in-memory state after it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  GovernedRuntime,
  governanceEventDigest,
  governanceLink,
  signGovernanceEvent,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c5'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_cluster');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-cluster-'));
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

/** Two nodes on `schema`, each its own chain, opened. */
async function twoNodes(schema: string, options: Parameters<typeof publishedDataDir>[4] = {}) {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, schema, options);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  await attachDatabase(a, { url: db.url, schema });
  await attachDatabase(b, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  // The policy key (same keys in every node directory: copies of one).
  const policy = t.signer('policy', 'policy');
  t.close();
  const close = async () => {
    await s.close();
    await ra.close();
    await rb.close();
    await a.closeAll();
    await b.closeAll();
  };
  return { t, a, b, ra, rb, s, policy, close };
}

/** Administrative receipts (tool helm.admin.*) on a chain. */
async function adminReceipts(
  s: { receipts(q: { chainId: string }): Promise<readonly { envelope: { payload: string } }[]> },
  chain: string,
) {
  const all = await s.receipts({ chainId: chain });
  return all
    .map(
      (r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')) as { tool?: string },
    )
    .filter((b) => typeof b.tool === 'string' && b.tool.startsWith('helm.admin.'));
}

describe('several nodes, one governance log (PostgreSQL)', () => {
  it('an identity revoke appended through node A is obeyed by node B at its next decision', async () => {
    const n = await twoNodes('revoke');
    try {
      expect((await n.ra.execute(call(1))).status).toBe('SUCCEEDED');
      expect((await n.rb.execute(call(2))).status).toBe('SUCCEEDED');
      await appendGovernanceEventAsync(n.a, {
        action: 'identity.remove',
        body: { credential_id: 'cred-alice' },
        signer: n.policy,
        at: Date.now(),
      });
      // B never saw the append happen: its next decision must not run under the old binding.
      const rb = await n.rb.execute(call(3));
      expect(rb.status).toBe('DENIED');
      expect(rb.receipt).not.toBeNull();
      const ra = await n.ra.execute(call(4));
      expect(ra.status).toBe('DENIED');
      expect(ra.reason_code).toBe(rb.reason_code);
      // One application record, one admin receipt — on the chain of the node that applied first.
      expect((await n.s.governanceApplied()).map((x) => x.seq)).toEqual([1]);
      const admin = [...(await adminReceipts(n.s, 'revoke-a')), ...(await adminReceipts(n.s, 'revoke-b'))];
      expect(admin.map((r) => r.tool)).toEqual(['helm.admin.identity.remove']);
      expect((await adminReceipts(n.s, 'revoke-b')).length).toBe(1);
    } finally {
      await n.close();
    }
  });

  it('two nodes racing to apply one event: one record, one admin receipt, the same state on both', async () => {
    const n = await twoNodes('race');
    try {
      for (let round = 0; round < 3; round++) {
        await appendGovernanceEventAsync(n.a, {
          action: 'identity.add',
          body: { credential_id: `cred-bob-${round}`, principal: 'alice' },
          signer: n.policy,
          at: Date.now(),
        });
        // Both nodes decide at once: each finds the event new.
        const [x, y] = await Promise.all([
          n.ra.execute(call(10 + round, `cred-bob-${round}`)),
          n.rb.execute(call(20 + round, `cred-bob-${round}`)),
        ]);
        expect([x.status, y.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      }
      const applied = await n.s.governanceApplied();
      expect(applied.map((x) => x.seq)).toEqual([1, 2, 3]);
      const admin = [...(await adminReceipts(n.s, 'race-a')), ...(await adminReceipts(n.s, 'race-b'))];
      expect(admin).toHaveLength(3);
      // Each node re-applied the others' records: both hold every binding, and a removal appended
      // now is seen by both.
      await appendGovernanceEventAsync(n.b, {
        action: 'identity.remove',
        body: { credential_id: 'cred-bob-1' },
        signer: n.policy,
        at: Date.now(),
      });
      for (const r of [n.ra, n.rb]) {
        expect((await r.execute(call(30, 'cred-bob-0'))).status).toBe('SUCCEEDED');
        expect((await r.execute(call(31, 'cred-bob-1'))).status).toBe('DENIED');
        expect((await r.execute(call(32, 'cred-bob-2'))).status).toBe('SUCCEEDED');
      }
      expect((await n.s.governanceApplied()).map((x) => x.seq)).toEqual([1, 2, 3, 4]);
      // A third node opened now restores the same state from the records.
      const c = nodeDir(n.t, root, 'race-c');
      await attachDatabase(c, { url: db.url, schema: 'race' });
      const rc = await GovernedRuntime.open(c, { clock });
      try {
        expect((await rc.execute(call(40, 'cred-bob-0'))).status).toBe('SUCCEEDED');
        expect((await rc.execute(call(41, 'cred-bob-1'))).status).toBe('DENIED');
      } finally {
        await rc.close();
        await c.closeAll();
      }
    } finally {
      await n.close();
    }
  });

  it('a budget reset appended through A is applied first by B on the database: the cluster-wide account is reset once', async () => {
    const CAP = 3;
    const n = await twoNodes('reset', {
      p0: {
        type: 'helm.policy.p0.v1',
        name: 'capped',
        forbidden_effect_types: [],
        budgets: {
          default_principal_max: 10_000,
          default_tenant_max: 10_000,
          principals: { alice: CAP },
          window: 'hour',
        },
        max_delegation_ttl_ms: 3_600_000,
        require_delegation_mfa: false,
      } as never,
    });
    try {
      for (let i = 0; i < CAP; i++) expect((await n.ra.execute(call(100 + i))).status).toBe('SUCCEEDED');
      // B never read the account before: its own view misses A's spend, and the database's
      // ceiling check refuses the admission (a receipted denial, multi-node.md §3.1).
      const over = await n.rb.execute(call(200));
      expect(over.status).toBe('DENIED');
      expect(['BUDGET_EXCEEDED', 'RECEIPT_PERSIST_FAILED']).toContain(over.reason_code);
      await appendGovernanceEventAsync(n.a, {
        action: 'budget.reset',
        body: { account: 'principal:alice', reason: 'test' },
        signer: n.policy,
        at: Date.now(),
      });
      // B applies it first (it reads the accounts through the port, not a synchronous read).
      expect((await n.rb.execute(call(201))).status).toBe('SUCCEEDED');
      const [record] = await n.s.governanceApplied();
      expect(record?.record).toMatchObject({ outcome: 'applied' });
      // A re-applies B's record (no second reset): the ceiling counts from the reset.
      expect((await n.ra.execute(call(101))).status).toBe('SUCCEEDED');
      expect((await n.ra.execute(call(102))).status).toBe('SUCCEEDED');
      expect((await n.ra.execute(call(103))).status).toBe('DENIED');
      expect((await adminReceipts(n.s, 'reset-b')).map((r) => r.tool)).toEqual(['helm.admin.budget.reset']);
      expect(await adminReceipts(n.s, 'reset-a')).toHaveLength(0);
    } finally {
      await n.close();
    }
  });

  it('attacker: a tool.repin on the database never breaks the nodes (refused at append; past the check, recorded rejected)', async () => {
    const n = await twoNodes('repin');
    try {
      const previous = JSON.parse(readFileSync(join(n.a.dir, 'tools', 'pay.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      const descriptor = { ...previous, description: 'changed' };
      const body = {
        tool: 'pay',
        descriptor,
        descriptor_digest: digest(canonicalBytes(descriptor)),
        previous_digest: digest(canonicalBytes(previous)),
        previous_descriptor: previous,
      } as never;
      // The tools are each node's own files: a repin cannot reach them through the database.
      await expect(
        appendGovernanceEventAsync(n.a, { action: 'tool.repin', body, signer: n.policy, at: Date.now() }),
      ).rejects.toMatchObject({ code: 'DATABASE_RUNTIME_UNSUPPORTED' });
      // A policy-key holder writes the event past the check, straight into the log.
      const registry = await n.a.registryAsync();
      const envelope = signGovernanceEvent({
        action: 'tool.repin',
        body,
        signer: n.policy,
        at: Date.now(),
        trustAnchor: n.a.config().trust_anchor,
        chainId: n.a.governanceLog as string,
      });
      const eventDigest = governanceEventDigest(envelope);
      await n.s.appendGovernanceEvent((head) => {
        const seq = (head?.seq ?? 0) + 1;
        const prev = head?.chain ?? `sha256:${'0'.repeat(64)}`;
        return {
          seq,
          digest: eventDigest,
          prev,
          chain: governanceLink(seq, prev, eventDigest, registry.seq),
          action: 'tool.repin',
          signer: n.policy.keyId,
          subject: null,
          trustSeq: registry.seq,
          envelope,
        };
      });
      // Both nodes go on deciding; the event is recorded rejected once, by the node that met it first.
      expect((await n.rb.execute(call(1))).status).toBe('SUCCEEDED');
      expect((await n.ra.execute(call(2))).status).toBe('SUCCEEDED');
      const [record] = await n.s.governanceApplied();
      expect(record?.record).toMatchObject({ outcome: 'rejected', code: 'DATABASE_RUNTIME_UNSUPPORTED' });
    } finally {
      await n.close();
    }
  });
});
