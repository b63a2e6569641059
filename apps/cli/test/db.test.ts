// `helmts db migrate`, `db status`, `doctor` and `--database-url` / HELM_DATABASE_URL against a
// REAL PostgreSQL server (a fresh database for this file; HELM_TEST_DATABASE_URL overrides; a
// missing server fails, never skips). Migrations run as a migrating role that owns the schema;
// runtime nodes serve as a separate role granted row access only — created here, in the server.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore, SCHEMA_VERSION } from '@helm/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCall } from '../../../packages/store/test/fixtures/chain.ts';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { spawnHelmts } from './cli-process.ts';
import { ECHO_TOOL } from './helpers.ts';

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
      applied: SCHEMA_VERSION,
      version: SCHEMA_VERSION,
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
    expect(again.json).toMatchObject({ ok: true, applied: 0, version: SCHEMA_VERSION });

    const doctor = await spawnHelmts(['doctor', '--database-url', as(SERVER), '--schema', SCHEMA, '--json']);
    expect(doctor.code).toBe(0);
    expect(doctor.json?.checks).toContainEqual(expect.objectContaining({ name: 'database', ok: true }));
    const status = await spawnHelmts(['db', 'status', '--schema', SCHEMA], {
      env: { HELM_DATABASE_URL: as(SERVER) },
    });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`schema v${SCHEMA_VERSION}`);

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

  it('a command not yet on the database refuses it and never falls back to the data directory', async () => {
    const data = join(dir, 'node');
    const init = await spawnHelmts(['--data-dir', data, 'init', '--json']);
    expect(init.code).toBe(0);
    const db0 = existsSync(join(data, 'helm.db'));
    for (const run of [
      // The commands still on the embedded store: same refusal, whichever file registers the
      // command (identity, egress, delegate, approvals, budget and run --challenge run on the
      // database now: db-governance.test.ts; policy show/sign/publish and keys rotate too:
      // db-policy.test.ts, db-keys.test.ts).
      ...[
        ['tool', 'list'],
        ['keys', 'list'],
        ['receipt-policy', 'show'],
      ].map((args) =>
        spawnHelmts(['--data-dir', data, ...args, '--json'], { env: { HELM_DATABASE_URL: as(SERVER) } }),
      ),
      spawnHelmts([
        '--data-dir',
        data,
        '--database-url',
        'postgres://u:secret@127.0.0.1:5432/x',
        'tool',
        'list',
        '--json',
      ]),
    ]) {
      const out = await run;
      expect(out.code).toBe(2);
      expect(errorCode(out.json)).toBe('DATABASE_RUNTIME_UNSUPPORTED');
      // The password-free URL may be named; a password never is.
      expect(out.stdout).not.toContain('secret');
    }
    expect(existsSync(join(data, 'helm.db'))).toBe(db0);
  });

  it('run and export govern calls on the database: two nodes, one registry, receipts only in the database; a database that is down runs nothing', async () => {
    // The deployment's database (schema public), migrated; one node's registry published.
    const url = db.url;
    expect((await spawnHelmts(['db', 'migrate', '--database-url', url, '--json'])).code).toBe(0);
    const a = join(dir, 'node-a');
    const init = await spawnHelmts(['--data-dir', a, 'init', '--json']);
    expect(init.code).toBe(0);
    const anchor = String((init.json as { trust_anchor?: unknown }).trust_anchor);
    const tool = join(dir, 'echo.json');
    writeFileSync(tool, JSON.stringify(ECHO_TOOL));
    expect((await spawnHelmts(['--data-dir', a, 'tool', 'register', tool, '--json'])).code).toBe(0);
    // Node b: a copy of a's data directory with its own chain id (one chain per node).
    const b = join(dir, 'node-b');
    cpSync(a, b, { recursive: true });
    const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ...config, chain_id: 'node-b' }));
    const published = await spawnHelmts([
      '--data-dir',
      a,
      'db',
      'publish-trust',
      '--database-url',
      url,
      '--json',
    ]);
    expect(published.code, published.stdout).toBe(0);
    expect((published.json as { written: number }).written).toBeGreaterThan(0);
    const again = await spawnHelmts([
      '--data-dir',
      b,
      'db',
      'publish-trust',
      '--database-url',
      url,
      '--json',
    ]);
    expect((again.json as { written: number }).written).toBe(0);
    // b never opens an embedded store from here on.
    rmSync(join(b, 'helm.db'), { force: true });

    const run = (node: string, x: number, extra: string[] = []) =>
      spawnHelmts(
        [
          '--data-dir',
          node,
          'run',
          '--tool',
          'echo',
          '--principal',
          'local',
          '--args',
          JSON.stringify({ x }),
          ...extra,
          '--json',
        ],
        { env: { HELM_DATABASE_URL: url } },
      );
    // Both nodes at once, three calls each (one `run` process at a time per data directory, as on
    // the embedded store: its runtime lock).
    const outs = (
      await Promise.all(
        [a, b].map(async (node) => {
          const done = [];
          for (const x of [1, 2, 3]) done.push(await run(node, x, ['--credential', 'cred-local']));
          return done;
        }),
      )
    ).flat();
    for (const o of outs) {
      expect(o.code, o.stdout + o.stderr).toBe(0);
      expect((o.json as { status: string }).status).toBe('SUCCEEDED');
    }
    expect(existsSync(join(b, 'helm.db'))).toBe(false);
    const s = await openPostgresStore({
      connectionString: url,
      nodeId: 'check',
      migrate: false,
      groupCommit: false,
    });
    try {
      for (const chain of ['main', 'node-b']) {
        const receipts = await s.receipts({ chainId: chain });
        expect(receipts.map((r) => r.lamport)).toEqual([1, 2, 3]);
      }
      // The identity lookup reads the database's governance state: no --credential needed.
      const noCredential = await run(b, 9);
      expect(noCredential.code, noCredential.stdout + noCredential.stderr).toBe(0);
      expect((noCredential.json as { status: string }).status).toBe('SUCCEEDED');
      // The database is down: the call fails with the store's code before anything is decided.
      const down = await spawnHelmts([
        '--data-dir',
        b,
        '--database-url',
        'postgres://postgres@127.0.0.1:1/none',
        'run',
        '--tool',
        'echo',
        '--principal',
        'local',
        '--credential',
        'cred-local',
        '--json',
      ]);
      expect(down.code).toBe(2);
      expect(errorCode(down.json)).toBe('STORE_UNAVAILABLE');
      expect((await s.receipts({ chainId: 'node-b' })).length).toBe(4);
      expect(existsSync(join(b, 'helm.db'))).toBe(false);
    } finally {
      await s.close();
    }
    // Each node's chain exports from the database and verifies offline.
    for (const node of [a, b]) {
      const file = join(node, 'pack.tar');
      const exported = await spawnHelmts([
        '--data-dir',
        node,
        '--database-url',
        url,
        'export',
        '-o',
        file,
        '--json',
      ]);
      expect(exported.code, exported.stdout + exported.stderr).toBe(0);
      const verified = await spawnHelmts(['verify', file, '--trust-anchor', anchor, '--json']);
      expect(verified.code, verified.stdout).toBe(0);
    }
  });
});
