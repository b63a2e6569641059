// Red team (I-GOVERN-1, I-MULTINODE-2, I-RULES-1). Attacker: the database writer (any row of
// HELM's schema, through SQL, no private keys). Several nodes share one governance log; a node
// that finds an event's application record "re-applies it as restore does, writing nothing".
//
// The claim under test: an edited application record is refused (GOVERNANCE_LOG_INVALID) "at
// open, or while the runtime runs", and a revoke appended through one node is obeyed by every
// node before its next decision.
//
// The attack: an operator appends `identity.remove` for a credential. Before any node applies
// it, the database writer inserts the event's application record itself — outcome 'rejected',
// linked to the previous record with the unkeyed chain value (governanceAppliedLink is a plain
// digest: no key needed) — and leaves the guardian-signed cursor alone. A running node's
// #reapply checks only the unkeyed link, never the signed cursor, so every running node takes the
// forged 'rejected' outcome: the revoked credential keeps running calls cluster-wide.
// Worse, the next honest event's application signs the cursor over the applied chain that now
// holds the forged record (A's #applyFirst links from its in-memory chain), so a node opened
// later verifies the forgery under a guardian signature: it survives every restart.
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
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c6'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_forged_record');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-forged-'));
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

/** A call's outcome, or the runtime's refusal code. */
async function outcome(rt: GovernedRuntime, i: number): Promise<string> {
  try {
    const r = await rt.execute(call(i));
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}

async function scenario(
  schema: string,
  forge: boolean,
  bless = false,
): Promise<{ onA: string; onB: string; onC?: string }> {
  {
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
    const c = await raw(db.url);
    try {
      // An honest first event, applied by both nodes: the forged record continues its chain.
      await appendGovernanceEventAsync(a, {
        action: 'identity.add',
        body: { credential_id: 'cred-bob', principal: 'alice' },
        signer: policy,
        at: Date.now(),
      });
      expect(await outcome(ra, 1)).toBe('SUCCEEDED');
      expect(await outcome(rb, 2)).toBe('SUCCEEDED');
      const [first] = await s.governanceApplied(1);
      expect(first?.seq).toBe(1);

      // The operator revokes alice's credential.
      await appendGovernanceEventAsync(a, {
        action: 'identity.remove',
        body: { credential_id: 'cred-alice' },
        signer: policy,
        at: Date.now(),
      });
      const revoke = await s.governanceEvent(2);
      expect(revoke?.action).toBe('identity.remove');

      if (!forge) return { onB: await outcome(rb, 3), onA: await outcome(ra, 4) };
      // The database writer records it as rejected before any node applies it: no key needed.
      const record = {
        outcome: 'rejected',
        code: 'KEY_NOT_VALID',
        detail: 'no longer holds policy',
        trust_seq: 1,
        clock_ms: Date.now(),
        epoch: 0,
        after_lamport: 0,
        receipt_id: null,
      };
      const chain = governanceAppliedLink(
        (first as { chain: string }).chain,
        2,
        (revoke as { digest: string }).digest,
        record as never,
      );
      await c.query(
        `INSERT INTO ${schema}.governance_applied (seq, digest, chain, record) VALUES ($1, $2, $3, $4)`,
        [2, (revoke as { digest: string }).digest, chain, JSON.stringify(record)],
      );

      // Both running nodes must not run alice's calls any more: either the revoke is obeyed
      // (DENIED) or the forged record is refused (GOVERNANCE_LOG_INVALID). Today both SUCCEED.
      const onB = await outcome(rb, 3);
      const onA = await outcome(ra, 4);
      if (!bless) return { onA, onB };
      // The next honest event: node A applies it first and signs the cursor over the applied
      // chain — which now includes the forged record. A node C opened afterwards then verifies
      // the forged record under a guardian signature: the forgery outlives every restart.
      await appendGovernanceEventAsync(a, {
        action: 'identity.add',
        body: { credential_id: 'cred-carol', principal: 'alice' },
        signer: policy,
        at: Date.now(),
      });
      await outcome(ra, 5);
      const cDir = nodeDir(t, root, `${schema}-c`);
      await attachDatabase(cDir, { url: db.url, schema });
      const rc = await GovernedRuntime.open(cDir, { clock }).catch((error: { code?: string }) => error);
      if (!(rc instanceof GovernedRuntime)) {
        await cDir.closeAll();
        return { onA, onB, onC: `OPEN_REFUSED:${String(rc.code)}` };
      }
      try {
        return { onA, onB, onC: await outcome(rc, 6) };
      } finally {
        await rc.close();
        await cDir.closeAll();
      }
    } finally {
      await c.end();
      await s.close();
      await ra.close();
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  }
}

describe('red team: a database writer forges the application record of a new governance event', () => {
  it('control: without the forgery, the revoke appended through A is obeyed by both running nodes', async () => {
    const { onA, onB } = await scenario('forged_ctl', false);
    expect(onB).toBe('DENIED:GATE_IDENTITY_ISOLATION');
    expect(onA).toBe(onB);
  });

  it('a forged "rejected" record of an identity revoke is refused, not obeyed, by running nodes', async () => {
    const { onA, onB } = await scenario('forged', true);
    // Either the revoke is obeyed (DENIED) or the forged record is refused (GOVERNANCE_LOG_INVALID,
    // nothing decided). Today both nodes take the forged outcome: the revoked credential SUCCEEDS.
    expect(onB).not.toBe('SUCCEEDED');
    expect(onA).not.toBe('SUCCEEDED');
  });

  it('the forged record is not made permanent by the next honest application (a node opened later refuses it)', async () => {
    const { onC } = await scenario('forged_bless', true, true);
    // Either C refuses to open (GOVERNANCE_LOG_INVALID) or obeys the revoke. Today C opens — the
    // cursor A signed covers the forged record — and alice's revoked credential SUCCEEDS on C.
    expect(onC).toMatch(/^(OPEN_REFUSED:GOVERNANCE_LOG_INVALID|DENIED:)/);
  });
});
