// I-MULTINODE-2. The administrative commands on a shared PostgreSQL database (a fresh database for
// this file; a missing server fails, never skips): `identity`, `egress`, `delegate`, `budget`,
// `approvals` and `run --challenge` take `--database-url` / HELM_DATABASE_URL. An edit made through
// node B's data directory reaches the database's one governance log — never B's `helm.db`, which
// is never created — and node A obeys it at its next call; `run` finds the caller's credential in
// the database's bindings. Real separate `helmts` processes.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../packages/store-postgres/test/harness.ts';
import { deployOnDatabase, errorCode } from './db-deployment.ts';

const db = await createTestDatabase('cli_dbgov');
const dir = mkdtempSync(join(tmpdir(), 'helm-cli-dbgov-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('administrative commands on a shared database', () => {
  it('an identity edit made through node B is obeyed by node A; the views read the database; nothing touches helm.db', async () => {
    const url = db.url;
    const {
      a,
      nodes: [b],
      onDb,
    } = await deployOnDatabase(dir, url, ['node-b']);
    const run = (node: string, extra: string[]) =>
      onDb(node, ['run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}', ...extra]);

    // B binds a second credential: appended to the database's log, B's helm.db never created.
    const added = await onDb(b, ['identity', 'add', 'cred-two', '--principal', 'local']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect((added.json as { event: { seq: number } }).event.seq).toBe(1);
    expect(existsSync(join(b, 'helm.db'))).toBe(false);
    // A's view of the bindings reads the database: the edit is there.
    const listed = await onDb(a, ['identity', 'list']);
    expect(listed.code, listed.stdout + listed.stderr).toBe(0);
    const creds = (listed.json as { bindings: { credential_id: string }[] }).bindings.map(
      (x) => x.credential_id,
    );
    expect(creds).toContain('cred-two');
    // A runs with the new credential (it applies the event first), and without naming one.
    const withTwo = await run(a, ['--credential', 'cred-two']);
    expect(withTwo.code, withTwo.stdout + withTwo.stderr).toBe(0);
    expect((withTwo.json as { status: string }).status).toBe('SUCCEEDED');
    const looked = await run(a, []);
    expect((looked.json as { status: string }).status).toBe('SUCCEEDED');
    // B removes it; A's next call with it is denied.
    const removed = await onDb(b, ['identity', 'remove', 'cred-two']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    const denied = await run(a, ['--credential', 'cred-two']);
    expect((denied.json as { status: string; reason_code: string }).status).toBe('DENIED');
    // A second removal is refused by the action's check, read from the database.
    const twice = await onDb(b, ['identity', 'remove', 'cred-two']);
    expect(twice.code).toBe(2);
    expect(errorCode(twice.json)).toBe('INVALID_INPUT');

    // The other views read the database too (no refusal, no helm.db).
    for (const args of [
      ['budget', 'show'],
      ['egress', 'list'],
      ['delegate', 'list'],
      ['approvals', 'list'],
    ]) {
      const out = await onDb(b, args);
      expect(out.code, `${args.join(' ')}: ${out.stdout}${out.stderr}`).toBe(0);
    }
    // run --challenge reads the challenge from the database: an unknown one is CHALLENGE_UNKNOWN.
    const unknown = await onDb(b, ['run', '--challenge', `sha256:${'0'.repeat(64)}`]);
    expect(errorCode(unknown.json)).toBe('CHALLENGE_UNKNOWN');
    expect(existsSync(join(b, 'helm.db'))).toBe(false);

    // One application record per event, one admin receipt each, on the chain of the node that
    // applied it (A: B ran no call).
    const s = await openPostgresStore({
      connectionString: url,
      nodeId: 'check',
      migrate: false,
      groupCommit: false,
    });
    try {
      expect((await s.governanceApplied()).map((x) => x.seq)).toEqual([1, 2]);
      const tools = (await s.receipts({ chainId: 'main' })).map(
        (r) =>
          (JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')) as { tool: string })
            .tool,
      );
      expect(tools.filter((t) => t.startsWith('helm.admin.'))).toEqual([
        'helm.admin.identity.add',
        'helm.admin.identity.remove',
      ]);
      expect(await s.receipts({ chainId: 'node-b' })).toHaveLength(0);
    } finally {
      await s.close();
    }
  });
});
