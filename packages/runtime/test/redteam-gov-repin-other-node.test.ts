// Red team (I-TOOL-1, I-MULTINODE-2, I-FAILCLOSED). `tool.repin` on several nodes sharing one
// PostgreSQL database. Claims under test (multi-node.md §3.1, governance-event.md §7): an event
// appended through one node is applied by every node before its next decision and the nodes hold
// the same state after it; a path not yet ported to the database refuses
// `DATABASE_RUNTIME_UNSUPPORTED` before anything is written, never later.
//
// Finding 1 (availability, cluster-wide): appendGovernanceEventAsync accepts a `tool.repin` on a
// shared database, but no node can record it — its handler's `writes` (tools/<name>.json) are a
// synchronous apply the PostgreSQL store refuses ("a governance application with synchronous
// writes (apply) is not supported by this store"). The first node to apply it repins the tool in
// memory, fails to record it and halts (INTERNAL, then RUNTIME_HALTED); every other node then
// finds the event unrecorded and does the same at its next decision, and every reopen again: one
// signed administrative event stops the whole cluster, with no stable reason code.
//
// Finding 2 (integrity, once a repin can be recorded): a node that finds another node's record
// re-applies it with `first: false`, and tool.repin's handler then only notes the digest
// (`noteAppliedRepin`); it neither repins the executor's tool nor writes this node's own
// tools/<name>.json, and TOOL_PIN_MISMATCH is checked only at open. Node B keeps deciding and
// running calls under the superseded descriptor. The record node A would write is put in place
// here (the recording path of finding 1 does not work yet), and only B is driven.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import { GOVERNANCE_GENESIS_PREV } from '@helm/evidencepack';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  GovernedRuntime,
  governanceAppliedLink,
  governanceEventDigest,
  governanceLink,
  signGovernanceEvent,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c7'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_repin_node');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-repin-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const call = (args: Record<string, unknown>) => ({
  tool: 'pay',
  principal: 'alice',
  args: args as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

/** A call's outcome, or the runtime's refusal code. */
async function outcome(rt: GovernedRuntime, args: Record<string, unknown>): Promise<string> {
  try {
    const r = await rt.execute(call(args));
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}

async function twoNodes(schema: string) {
  const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
  const a = nodeDir(t, root, `${schema}-a`);
  const b = nodeDir(t, root, `${schema}-b`);
  await attachDatabase(a, { url: db.url, schema });
  await attachDatabase(b, { url: db.url, schema });
  const ra = await GovernedRuntime.open(a, { clock });
  const rb = await GovernedRuntime.open(b, { clock });
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'ops', schema, migrate: false });
  const policy = t.signer('policy', 'policy');
  t.close();
  // The operator tightens `pay`: every call must now carry a numeric `amount`.
  const previous = JSON.parse(readFileSync(a.toolPath('pay'), 'utf8')) as Record<string, unknown>;
  const previousDigest = digest(canonicalBytes(previous as never));
  const descriptor = {
    ...previous,
    input_schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } },
  };
  const descriptorDigest = digest(canonicalBytes(descriptor as never));
  const body = {
    tool: 'pay',
    descriptor,
    descriptor_digest: descriptorDigest,
    previous_digest: previousDigest,
    previous_descriptor: previous,
  };
  const repin = () =>
    appendGovernanceEventAsync(a, {
      action: 'tool.repin',
      body: body as never,
      signer: policy,
      at: Date.now(),
    });
  const close = async () => {
    await s.close();
    await ra.close().catch(() => undefined);
    await rb.close().catch(() => undefined);
    await a.closeAll();
    await b.closeAll();
  };
  return { t, a, b, ra, rb, s, repin, body, policy, previousDigest, descriptorDigest, close };
}

/** The repin event signed by the policy key and written straight into the log (no append check). */
async function pastTheCheck(n: Awaited<ReturnType<typeof twoNodes>>): Promise<void> {
  const registry = await n.a.registryAsync();
  const envelope = signGovernanceEvent({
    action: 'tool.repin',
    body: n.body as never,
    signer: n.policy,
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
      action: 'tool.repin',
      signer: n.policy.keyId,
      subject: null,
      trustSeq: registry.seq,
      envelope,
    };
  });
}

describe('red team: tool.repin across nodes on one database', () => {
  it('a repin appended on a shared database is refused at append or applied by every node — it never halts the cluster', async () => {
    const n = await twoNodes('repin_halt');
    try {
      expect(await outcome(n.ra, { i: 1 })).toBe('SUCCEEDED');
      expect(await outcome(n.rb, { i: 2 })).toBe('SUCCEEDED');
      let refusedAtAppend = false;
      try {
        await n.repin();
      } catch (error) {
        // The documented refusal for a path not yet ported: nothing appended, nothing broken.
        expect((error as { code?: unknown }).code).toBe('DATABASE_RUNTIME_UNSUPPORTED');
        refusedAtAppend = true;
      }
      const onA = [await outcome(n.ra, { amount: 1 }), await outcome(n.ra, { i: 3 })];
      const onB = [await outcome(n.rb, { amount: 2 }), await outcome(n.rb, { i: 4 })];
      // Today: A → REFUSED:INTERNAL then REFUSED:RUNTIME_HALTED, and B the same.
      const refused = [...onA, ...onB].filter((o) => o.startsWith('REFUSED:'));
      expect({ onA, onB, refused }).toEqual({
        onA: refusedAtAppend ? ['SUCCEEDED', 'SUCCEEDED'] : ['SUCCEEDED', onA[1]],
        onB: refusedAtAppend ? ['SUCCEEDED', 'SUCCEEDED'] : ['SUCCEEDED', onA[1]],
        refused: [],
      });
    } finally {
      await n.close();
    }
  });

  it('node B re-applying the repin record of node A decides under the new descriptor from its next decision', async () => {
    const n = await twoNodes('repin_stale');
    const c = await raw(db.url);
    try {
      expect(await outcome(n.rb, { i: 1 })).toBe('SUCCEEDED');
      expect(n.rb.executor.getTool('pay')?.descriptor_digest).toBe(n.previousDigest);
      // Changed by the red-team fix (redfix): a repin is refused at append on a shared database
      // (DATABASE_RUNTIME_UNSUPPORTED); a policy-key holder writes it past the check, straight
      // into the log, so the re-apply path is still exercised.
      await expect(n.repin()).rejects.toMatchObject({ code: 'DATABASE_RUNTIME_UNSUPPORTED' });
      await pastTheCheck(n);
      const event = await n.s.governanceEvent(1);
      expect(event?.action).toBe('tool.repin');
      // The application record node A writes when it applies the repin first (outcome applied).
      const record = {
        outcome: 'applied',
        code: null,
        detail: null,
        trust_seq: (event as { trustSeq: number }).trustSeq,
        clock_ms: Date.now(),
        epoch: 1,
        after_lamport: 1,
        receipt_id: null,
      };
      // First record of the log: its link continues the genesis value the runtime starts from.
      const chain = governanceAppliedLink(
        GOVERNANCE_GENESIS_PREV,
        1,
        (event as { digest: string }).digest,
        record as never,
      );
      await c.query(
        `INSERT INTO repin_stale.governance_applied (seq, digest, chain, record) VALUES ($1, $2, $3, $4)`,
        [1, (event as { digest: string }).digest, chain, JSON.stringify(record)],
      );
      // B re-applies the record before its next decision: the old-shaped call must no longer run.
      const onB = await outcome(n.rb, { i: 2 });
      expect(onB).not.toBe('SUCCEEDED');
      // Changed by the red-team fix (redfix; the brief allows "actually repin (or refuse)"): B
      // either runs the new descriptor, or refuses to decide at all — it never keeps deciding
      // under the old descriptor (a new-shaped call is not run under the old one either).
      if (n.rb.executor.getTool('pay')?.descriptor_digest !== n.descriptorDigest)
        expect(await outcome(n.rb, { amount: 3 })).toMatch(/^REFUSED:/);
    } finally {
      await c.end();
      await n.close();
    }
  });
});
