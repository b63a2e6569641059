// I-MULTINODE-2: delegation sessions on one PostgreSQL database (real server; no server = failure,
// never a skip). A session drafted and appended through node A's data directory
// (delegateCreateAsync: drafted on one snapshot of the database's governance state, appended to its
// one log) is usable on node B's running runtime; its revocation appended through A
// (delegateRevokeAsync) denies B's next call. A malformed session id appends nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  appendGovernanceEventAsync,
  attachDatabase,
  delegateCreateAsync,
  delegateRevokeAsync,
  GovernedRuntime,
  grantsFrom,
  presentation,
} from '../src/index.ts';
import { nodeDir, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'d7'.repeat(32)}`;
const db = await createTestDatabase('rt_deleg');
const root = mkdtempSync(join(tmpdir(), 'helm-deleg-pg-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

describe('I-MULTINODE-2 delegation sessions across nodes (PostgreSQL)', () => {
  it('created through A, used on B; revoked through A, denied on B; a malformed id appends nothing', async () => {
    const t = await publishedDataDir(db.url, root, FINGERPRINT, 'deleg');
    const a = nodeDir(t, root, 'deleg-a');
    const b = nodeDir(t, root, 'deleg-b');
    await attachDatabase(a, { url: db.url, schema: 'deleg' });
    await attachDatabase(b, { url: db.url, schema: 'deleg' });
    const rb = await GovernedRuntime.open(b, { clock: { now: () => Date.now() } });
    try {
      const signer = a.localKey('policy').signer;
      // bob's credential, bound through the database's log (the delegate acts under its own identity).
      await appendGovernanceEventAsync(a, {
        action: 'identity.add',
        body: { credential_id: 'cred-bob', principal: 'bob' },
        signer,
        at: Date.now(),
      });
      const created = await delegateCreateAsync(
        a,
        {
          delegator: 'alice',
          delegate: 'bob',
          grants: grantsFrom(a, { tools: ['pay'] }),
          ttl_ms: 3_600_000,
          mfa_verified: true,
        },
        signer,
        Date.now(),
      );
      expect(created.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const call = (n: number) => ({
        tool: 'pay',
        principal: 'bob',
        args: { n },
        context: {
          environment_fingerprint: FINGERPRINT,
          credential_id: 'cred-bob',
          delegation: presentation(created.session.session_id, created.code_verifier as string),
        },
      });
      const first = await rb.execute(call(1) as never);
      expect(first, JSON.stringify({ r: first.reason_code, m: first.message })).toMatchObject({
        status: 'SUCCEEDED',
      });
      const before = await a.shared?.governanceHead();
      await expect(
        delegateRevokeAsync(a, 'not-a-session', undefined, signer, Date.now()),
      ).rejects.toMatchObject({
        code: 'USAGE',
      });
      expect(await a.shared?.governanceHead()).toEqual(before);
      const revoked = await delegateRevokeAsync(a, created.session.session_id, 'done', signer, Date.now());
      expect(revoked.seq).toBe((before?.seq ?? 0) + 1);
      expect(revoked.action).toBe('delegation.revoke');
      expect(await rb.execute(call(2) as never)).toMatchObject({
        status: 'DENIED',
        reason_code: 'DELEGATION_INVALID',
      });
    } finally {
      await rb.close();
      await a.closeAll();
      await b.closeAll();
    }
  });
});
