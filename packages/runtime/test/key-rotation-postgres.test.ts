// I-MULTINODE-2 (key registry): a key rotated against the shared database (rotateKeyOnDatabase,
// `helmts keys rotate --database-url`) is seen by every node before its next decision — a running
// node refuses (TRUST_REGISTRY_STALE, nothing signed) until it is reopened under it, a node opening
// later decides under it — and the rotated-out key can no longer sign governance events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  GovernedRuntime,
  rotateKeyOnDatabase,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'e3'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_key_rotation');
const root = mkdtempSync(join(tmpdir(), 'helm-key-rotation-pg-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

async function outcome(rt: GovernedRuntime, i: number): Promise<string> {
  try {
    const r = await rt.execute({
      tool: 'pay',
      principal: 'alice',
      args: { i } as never,
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    });
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}

describe('key rotation on a shared database', () => {
  it('a running node refuses until reopened; a node opening later decides; the old key signs nothing', async () => {
    const schema = 'krot';
    const t = await publishedDataDir(db.url, root, FINGERPRINT, schema);
    const a = nodeDir(t, root, `${schema}-a`);
    const c = nodeDir(t, root, `${schema}-c`);
    const admin = nodeDir(t, root, `${schema}-admin`);
    const oldPolicy = t.signer('policy', 'policy');
    t.close();
    await attachDatabase(a, { url: db.url, schema });
    const ra = await GovernedRuntime.open(a, { clock });
    let rc: GovernedRuntime | undefined;
    try {
      expect(await outcome(ra, 1)).toBe('SUCCEEDED');
      const r = await rotateKeyOnDatabase(admin, 'approver-1', { url: db.url, schema });
      expect(r.written).toBe(1);
      expect(await outcome(ra, 2)).toBe('DENIED:TRUST_REGISTRY_STALE');
      await attachDatabase(c, { url: db.url, schema });
      rc = await GovernedRuntime.open(c, { clock });
      expect(await outcome(rc, 3)).toBe('SUCCEEDED');
      // The policy key (rotated next) can no longer sign an event for this database's log.
      await rotateKeyOnDatabase(admin, 'policy', { url: db.url, schema });
      await expect(
        appendGovernanceEventAsync(c, {
          action: 'identity.add',
          body: { credential_id: 'cred-x', principal: 'alice' },
          signer: oldPolicy,
          at: Date.now(),
        }),
      ).rejects.toMatchObject({ code: 'KEY_NOT_VALID' });
    } finally {
      await ra.close();
      await rc?.close();
      await a.closeAll();
      await c.closeAll();
      admin.close();
    }
  });
});
