// Red team (I-MULTINODE-2, "a call decided under an old policy on another node"). Attacker: the
// data-directory writer of ONE node of a cluster (or an incomplete roll-out), who puts back the
// deployment's previous signed P1 bundle — a genuine policy-key signature, an older version.
//
// On a shared database the nodes share budgets, grants, nonces and one governance log, but each
// node's policy is a file of its own directory, verified at open only for its signature: nothing
// records on the database which bundle version the deployment has reached, so a node opens and
// decides under version 1 after its peers moved to version 2 that forbids the call. Receipts on
// the two chains then carry different policy hashes for the same principal and tool, and no node
// notices. (A single node has the same gap against its own data-directory writer; the shared
// database is where a deployment-wide floor could live — this test asks for one.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, GovernedRuntime } from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'cb'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_policy_rb');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-policy-'));
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

describe('red team: one node of a cluster decides under the previous signed policy bundle', () => {
  it('after node A runs bundle version 2, node B does not decide under version 1', async () => {
    const schema = 'polrb';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const policy = t.signer('policy', 'policy');
    const a = nodeDir(t, root, `${schema}-a`);
    const b = nodeDir(t, root, `${schema}-b`);
    t.close();
    // The deployment moves to version 2: alice may no longer run anything.
    a.writePolicy(
      a.p0(),
      { type: 'helm.policy.bundle.v1', name: 'rules', version: 2, rules: [] } as never,
      policy,
    );
    await attachDatabase(a, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    let rb: GovernedRuntime | Error | undefined;
    try {
      const onA = await outcome(ra, 1);
      expect(onA).toMatch(/^DENIED:/);
      // Node B still holds (or was given back) version 1, signed by the same policy key.
      await attachDatabase(b, { url: db.url, schema });
      rb = await GovernedRuntime.open(b, { clock }).catch((error: Error) => error);
      if (!(rb instanceof GovernedRuntime)) {
        // Refusing to open on an older bundle than the deployment's is correct — with a stable code.
        const code = (rb as { code?: unknown }).code;
        expect(typeof code === 'string' && code !== 'INTERNAL' && /^[A-Z_]+$/.test(code)).toBe(true);
        return;
      }
      // Today: SUCCEEDED — B decides under the superseded bundle.
      expect(await outcome(rb, 2)).not.toBe('SUCCEEDED');
    } finally {
      await ra.close();
      if (rb instanceof GovernedRuntime) await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
