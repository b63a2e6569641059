// Test harness: a real PostgreSQL server (no mocks, no in-process emulation). Each test file gets
// a fresh database, dropped after it. The server is 127.0.0.1:5432 with trust auth (database
// `test`, user `postgres`) unless HELM_TEST_DATABASE_URL names another one whose user may
// CREATE DATABASE. Without a server the suite FAILS with instructions — it never skips.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.HELM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function howToProvide(cause: string): string {
  return [
    `PostgreSQL is required by the @helm/store-postgres tests and did not answer at ${ADMIN_URL} (${cause}).`,
    'Provide it in one of these ways (the suite fails rather than skip):',
    '  - start the local server:  pg_ctlcluster <version> main start   (e.g. pg_ctlcluster 15 main start; `pg_lsclusters` lists them)',
    '  - install it first:        apt-get install postgresql   (trust auth for 127.0.0.1 in pg_hba.conf, database `test`)',
    '  - or point the tests at a server whose user may CREATE DATABASE:',
    '                             HELM_TEST_DATABASE_URL=postgres://user:password@host:5432/db pnpm --filter @helm/store-postgres test',
  ].join('\n');
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
  } catch (error) {
    throw new Error(howToProvide((error as Error).message || String(error)), { cause: error });
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** Create a fresh, empty database for one test file. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `helm_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      admin(
        async (c) =>
          void (await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)),
      ),
  };
}

/** A raw connection for what the store API cannot do (hold a lock, tamper with a row, kill a backend). */
export async function raw(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/**
 * Empty every HELM table of `schema` (keeping the migrated schema): tests in one file share one
 * migrated schema instead of paying for a migration each.
 */
export async function emptySchema(url: string, schema: string): Promise<void> {
  const c = await raw(url);
  try {
    const { rows } = await c.query<{ t: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`,
      [schema],
    );
    // DELETE, not TRUNCATE: on tiny tables it is a hundred times faster (no new files to sync).
    // Rows that reference others go first.
    const tables = rows
      .map((r) => r.t)
      .sort((a, b) => Number(b.endsWith('.session_artifacts')) - Number(a.endsWith('.session_artifacts')));
    await c.query('BEGIN');
    for (const t of tables) await c.query(`DELETE FROM ${t}`);
    await c.query('COMMIT');
    await c
      .query(`SELECT setval(format('%I.ledger_reservation_seq', $1::text)::regclass, 1, false)`, [schema])
      .catch(() => {});
  } finally {
    await c.end();
  }
}
