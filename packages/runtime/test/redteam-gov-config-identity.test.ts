// Red team (I-RULES-1, I-MULTINODE-2). Attacker: the data-directory writer of ONE node of a
// cluster (config.json between runs; no keys). Claim under test (I-RULES-1): "Identity bindings,
// the egress allowlist and delegation sessions change only through signed governance events by a
// key holding `policy`"; on a shared database every node applies the same governance log, so
// every node should hold the same bindings.
//
// The initial bindings are read from each node's own config.json (`baseIdentity`), unsigned and
// bound to nothing on the database: the writer adds `cred-mallory → alice` to node B's file, and B
// authenticates a credential that no signed event ever bound and that node A refuses. (The same
// holds on a single node against its own data-directory writer; on a cluster it also makes the
// nodes' rules diverge silently.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, GovernedRuntime } from '../src/index.ts';
import { nodeDir, payOutcome, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'cc'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_gov_cfg_identity');
const root = mkdtempSync(join(tmpdir(), 'helm-gov-cfgid-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const outcome = (rt: GovernedRuntime, i: number, credential: string) =>
  payOutcome(rt, FINGERPRINT, i, credential);

describe("red team: a binding added to one node's config.json", () => {
  it('is not honoured: node B authenticates exactly what node A does', async () => {
    const schema = 'cfgid';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const a = nodeDir(t, root, `${schema}-a`);
    const b = nodeDir(t, root, `${schema}-b`);
    t.close();
    // The data-directory writer of node B, between runs.
    const config = b.config() as unknown as { identity: { credential_id: string; principal: string }[] };
    b.writeConfig({
      ...b.config(),
      identity: [...config.identity, { credential_id: 'cred-mallory', principal: 'alice' }],
    } as never);
    await attachDatabase(a, { url: db.url, schema });
    await attachDatabase(b, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    const rb = await GovernedRuntime.open(b, { clock }).catch((error: Error) => error);
    try {
      expect(await outcome(ra, 1, 'cred-alice')).toBe('SUCCEEDED');
      const onA = await outcome(ra, 2, 'cred-mallory');
      expect(onA).toMatch(/^DENIED:GATE_IDENTITY/);
      if (!(rb instanceof GovernedRuntime)) {
        // Refusing to open on bindings no signed event made is correct, with a stable code.
        expect((rb as { code?: unknown }).code).toMatch(/^[A-Z_]+$/);
        return;
      }
      // Today: SUCCEEDED on B.
      expect(await outcome(rb, 3, 'cred-mallory')).toBe(onA);
    } finally {
      await ra.close();
      if (rb instanceof GovernedRuntime) await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
