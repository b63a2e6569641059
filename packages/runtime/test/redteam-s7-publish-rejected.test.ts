// Red team (s7), I-MULTINODE-2 (policy bundle × key rotation). A bundle is published through the
// shared database's governance log (`helmts policy publish` answers "Every runtime on it puts the
// bundle in force before its next decision"), then the policy key that signed it is rotated out
// with `keys rotate policy --database-url` before any node applied it. The first application then
// runs at the rotated trust seq and is rejected — correctly, the signer's key is no longer valid.
// The attack is on what everything else believes: lastPublishedBundle() (what `policy show` prints
// as in force, what `policy sign` and the next publication's check compare against) counts the
// rejected publication, so
//   - the deployment is told version N is in force while the nodes decide under an older bundle;
//   - a re-signed version N (the new key) is refused "not above N": the bundle the operator meant
//     can only come back under another version number.
// Second case, the database writer: the deployment floor row is read unverified at a publication's
// first application ("a forged row can refuse, never admit", deployment-floor.ts). Raised between
// the publication and its first application it makes the node reject the publication — and when
// the publication was the restrictive one (a revocation), refusing it admits: the node keeps
// allowing alice under version 1 while version 2 is reported published.
// Control: a bundle signed by the rotated-out key is refused at publication.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { type Signer, signEnvelope } from '@helm/crypto';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  attachDatabase,
  GovernedRuntime,
  governanceSnapshot,
  lastPublishedBundle,
  publishPolicyBundle,
  rotateKeyOnDatabase,
} from '../src/index.ts';
import { nodeDir, payOutcome, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'7c'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_s7_publish_rotated');
const root = mkdtempSync(join(tmpdir(), 'helm-s7-publish-rotated-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

function bundle(policy: Signer, version: number, allowAlice: boolean): SignedEnvelope {
  return signEnvelope(
    {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version,
      rules: allowAlice ? [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }] : [],
    } as never,
    [policy],
  );
}

describe('red team s7: a publication whose signing key is rotated out before it is applied', () => {
  it('what is reported in force is what the nodes decide under, and the bundle can be re-signed at its version', async () => {
    const schema = 's7_pubrot';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const admin = nodeDir(t, root, `${schema}-admin`);
    const c = nodeDir(t, root, `${schema}-c`);
    const oldPolicy = t.signer('policy', 'policy');
    t.close();
    await attachDatabase(admin, { url: db.url, schema });
    await attachDatabase(c, { url: db.url, schema });
    let rc: GovernedRuntime | undefined;
    try {
      // Version 2 denies alice; published (accepted: the key is valid at the head).
      await publishPolicyBundle(admin, bundle(oldPolicy, 2, false), oldPolicy, Date.now());
      // The policy key is rotated out before any node applied version 2.
      await rotateKeyOnDatabase(admin, 'policy', { url: db.url, schema });
      // Control: the rotated-out key can no longer publish.
      await expect(
        publishPolicyBundle(admin, bundle(oldPolicy, 3, false), oldPolicy, Date.now()),
      ).rejects.toMatchObject({ code: expect.stringMatching(/POLICY_INVALID|KEY_NOT_VALID/) });
      // The documented procedure (deployment.md): copy the rotating directory's re-signed policy/
      // files to every node, else its next open is POLICY_INVALID.
      cpSync(join(admin.dir, 'policy'), join(c.dir, 'policy'), { recursive: true });
      rc = await GovernedRuntime.open(c, { clock });
      const decided = await payOutcome(rc, FINGERPRINT, 1, 'cred-alice');
      const reported = lastPublishedBundle(await governanceSnapshot(admin));
      // The node decides under a bundle that allows alice (version 2 was not applied) …
      const deniesAlice = decided !== 'SUCCEEDED';
      // The operator re-signs version 2 with the successor key and publishes it again.
      const newPolicy = (await governanceSnapshot(admin)).signer('policy', 'policy');
      const republished = await publishPolicyBundle(
        admin,
        bundle(newPolicy, 2, false),
        newPolicy,
        Date.now(),
      ).then(
        () => 'published',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
      // What is reported as published (in force) is what the node decides under, and version 2 —
      // never in force anywhere — can be published under the valid key.
      expect({ decided, reportedVersion: reported?.version, republished }).toEqual({
        decided,
        reportedVersion: deniesAlice ? 2 : undefined,
        republished: 'published',
      });
    } finally {
      await rc?.close();
      await c.closeAll();
      await admin.closeAll();
    }
  });
  it('the database writer raises the unsigned floor row between a publication and its first application: the bundle is rejected, yet reported in force', async () => {
    const schema = 's7_pubfloor';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const admin = nodeDir(t, root, `${schema}-admin`);
    const a = nodeDir(t, root, `${schema}-a`);
    const policy = t.signer('policy', 'policy');
    t.close();
    await attachDatabase(admin, { url: db.url, schema });
    await attachDatabase(a, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    const s = await openPostgresStore({ connectionString: db.url, nodeId: 'writer', schema, migrate: false });
    try {
      expect(await payOutcome(ra, FINGERPRINT, 1, 'cred-alice')).toBe('SUCCEEDED');
      // Version 2 denies alice (say, alice's credential leaked): published, accepted.
      await publishPolicyBundle(admin, bundle(policy, 2, false), policy, Date.now());
      // The database writer: the floor row is unsigned-read ("a forged row can refuse, never
      // admit") — here it refuses the revocation itself.
      const forged = Buffer.from(
        JSON.stringify({ type: 'helm.policy.bundle.v1', name: 'rules', version: 99 }),
      ).toString('base64url');
      await s.putDocument('meta', 'policy-floor', { payload: forged, signatures: [] } as never);
      const decided = await payOutcome(ra, FINGERPRINT, 2, 'cred-alice');
      const reported = lastPublishedBundle(await governanceSnapshot(admin));
      // Either version 2 is in force (alice denied), or it is not reported as the bundle in force.
      expect({ decided, reportedVersion: reported?.version }).toEqual(
        decided === 'SUCCEEDED' ? { decided, reportedVersion: undefined } : { decided, reportedVersion: 2 },
      );
    } finally {
      await s.close();
      await ra.close();
      await a.closeAll();
      await admin.closeAll();
    }
  });
});
