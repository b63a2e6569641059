// `helmts db migrate`, `db status`, `doctor` and `--database-url` / HELM_DATABASE_URL against a
// REAL PostgreSQL server (a fresh database for this file; HELM_TEST_DATABASE_URL overrides; a
// missing server fails, never skips). Migrations run as a migrating role that owns the schema;
// runtime nodes serve as a separate role granted row access only — created here, in the server.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCall } from '../../../packages/store/test/fixtures/chain.ts';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { spawnHelmts } from './cli-process.ts';

const db = await createTestDatabase('cli_db');
const tag = randomBytes(3).toString('hex');
const MIGRATOR = `helm_migrator_${tag}`;
const SERVER = `helm_server_${tag}`;
const SCHEMA = 'helm';
const as = (role: string): string => {
  const u = new URL(db.url);
  u.username = role;
  u.password = '';
  return u.toString();
};
const dir = mkdtempSync(join(tmpdir(), 'helm-cli-db-'));

beforeAll(async () => {
  const c = await raw(db.url);
  try {
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(MIGRATOR)} LOGIN`);
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(SERVER)} LOGIN`);
    // The migrating role may create the schema; the serving role gets nothing on the database.
    await c.query(
      `GRANT CREATE ON DATABASE ${pg.escapeIdentifier(db.name)} TO ${pg.escapeIdentifier(MIGRATOR)}`,
    );
  } finally {
    await c.end();
  }
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
  const c = await raw(db.url.replace(/\/[^/]*$/, '/postgres'));
  try {
    for (const r of [MIGRATOR, SERVER]) await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(r)}`);
  } finally {
    await c.end();
  }
});

const errorCode = (json: Record<string, unknown> | undefined): unknown =>
  (json?.error as { code?: unknown } | undefined)?.code;

describe('helmts db / doctor on a shared PostgreSQL database', () => {
  it('migrations run as the migrating role; the serving role can serve but never run DDL', async () => {
    // Before any migration, the schema is reported as not current (exit 1).
    const before = await spawnHelmts([
      'db',
      'status',
      '--database-url',
      as(SERVER),
      '--schema',
      SCHEMA,
      '--json',
    ]);
    expect(before.code).toBe(1);
    expect(before.json?.database).toMatchObject({
      ok: false,
      reachable: true,
      version: 0,
      code: 'STORE_UNSUPPORTED_VERSION',
    });

    // The serving role cannot migrate: refused with a stable code, nothing created.
    const denied = await spawnHelmts(['db', 'migrate', '--schema', SCHEMA, '--json'], {
      env: { HELM_DATABASE_URL: as(SERVER) },
    });
    expect(denied.code).toBe(2);
    expect(errorCode(denied.json)).toBe('STORE_PERMISSION_DENIED');

    const migrated = await spawnHelmts([
      '--database-url',
      as(MIGRATOR),
      'db',
      'migrate',
      '--schema',
      SCHEMA,
      '--grant-to',
      SERVER,
      '--json',
    ]);
    expect(migrated.code).toBe(0);
    expect(migrated.json).toMatchObject({
      ok: true,
      applied: 2,
      version: 2,
      granted_to: SERVER,
      schema: SCHEMA,
    });
    const again = await spawnHelmts([
      '--database-url',
      as(MIGRATOR),
      'db',
      'migrate',
      '--schema',
      SCHEMA,
      '--json',
    ]);
    expect(again.json).toMatchObject({ ok: true, applied: 0, version: 2 });

    const doctor = await spawnHelmts(['doctor', '--database-url', as(SERVER), '--schema', SCHEMA, '--json']);
    expect(doctor.code).toBe(0);
    expect(doctor.json?.checks).toContainEqual(expect.objectContaining({ name: 'database', ok: true }));
    const status = await spawnHelmts(['db', 'status', '--schema', SCHEMA], {
      env: { HELM_DATABASE_URL: as(SERVER) },
    });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('schema v2');

    // The serving role opens without migrating and commits a governed call with its grants...
    const store = await openPostgresStore({
      connectionString: as(SERVER),
      nodeId: 'srv',
      schema: SCHEMA,
      migrate: false,
    });
    try {
      await store.commitCall(makeCall({ lamport: 0, hash: `sha256:${'0'.repeat(64)}` }, 's', 0));
      expect((await store.chainHead())?.lamport).toBe(1);
      expect(await store.ledgerReserve([{ account: 'a', ceiling: 5 }], 1)).toMatch(/^budget-res-\d+$/);
      // ...but cannot change the schema or the migration record.
      await expect(store.migrate()).resolves.toBe(0);
    } finally {
      await store.close();
    }
    const srv = await raw(as(SERVER));
    try {
      await expect(srv.query(`DROP TABLE ${SCHEMA}.receipts`)).rejects.toMatchObject({ code: '42501' });
      await expect(srv.query(`TRUNCATE ${SCHEMA}.receipts`)).rejects.toMatchObject({ code: '42501' });
      await expect(srv.query(`DELETE FROM ${SCHEMA}.schema_migrations`)).rejects.toMatchObject({
        code: '42501',
      });
      await expect(srv.query(`CREATE TABLE ${SCHEMA}.x (a int)`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await srv.end();
    }
  });

  it('an unreachable database fails closed with STORE_UNAVAILABLE (migrate exit 2, status exit 1)', async () => {
    const nowhere = 'postgres://postgres@127.0.0.1:1/nowhere';
    const m = await spawnHelmts(['db', 'migrate', '--database-url', nowhere, '--json']);
    expect(m.code).toBe(2);
    expect(errorCode(m.json)).toBe('STORE_UNAVAILABLE');
    const d = await spawnHelmts(['db', 'status', '--database-url', nowhere, '--json']);
    expect(d.code).toBe(1);
    expect(d.json?.database).toMatchObject({ ok: false, reachable: false, code: 'STORE_UNAVAILABLE' });
    const bad = await spawnHelmts(['db', 'status', '--database-url', 'mysql://x', '--json']);
    expect(bad.code).toBe(2);
    expect(errorCode(bad.json)).toBe('USAGE');
    const none = await spawnHelmts(['db', 'status', '--json'], { env: { HELM_DATABASE_URL: undefined } });
    expect(errorCode(none.json)).toBe('USAGE');
  });

  it('a command that governs calls never falls back to the data directory when a database is given', async () => {
    const data = join(dir, 'node');
    const init = await spawnHelmts(['--data-dir', data, 'init', '--json']);
    expect(init.code).toBe(0);
    const db0 = existsSync(join(data, 'helm.db'));
    for (const run of [
      spawnHelmts([
        '--data-dir',
        data,
        '--database-url',
        as(SERVER),
        'run',
        '--tool',
        'echo',
        '--principal',
        'local',
        '--args',
        '{}',
        '--json',
      ]),
      spawnHelmts(['--data-dir', data, 'export', '--json'], { env: { HELM_DATABASE_URL: as(SERVER) } }),
      // The administrative commands open the data directory too: same refusal, whichever file
      // registers the command.
      ...[
        ['identity', 'list'],
        ['egress', 'list'],
        ['delegate', 'list'],
      ].map((args) =>
        spawnHelmts(['--data-dir', data, ...args, '--json'], { env: { HELM_DATABASE_URL: as(SERVER) } }),
      ),
    ]) {
      const out = await run;
      expect(out.code).toBe(2);
      expect(errorCode(out.json)).toBe('DATABASE_RUNTIME_UNSUPPORTED');
      // The password-free URL may be named; a password never is.
      expect(out.stdout).not.toContain('secret');
    }
    const withPassword = await spawnHelmts([
      '--data-dir',
      data,
      '--database-url',
      'postgres://u:secret@127.0.0.1:5432/x',
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--json',
    ]);
    expect(errorCode(withPassword.json)).toBe('DATABASE_RUNTIME_UNSUPPORTED');
    expect(withPassword.stdout).not.toContain('secret');
    expect(existsSync(join(data, 'helm.db'))).toBe(db0);
  });
});
