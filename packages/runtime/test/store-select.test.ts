// The database side of store selection (src/internal/store-select.ts) against a REAL PostgreSQL
// server (fresh database for this file; HELM_TEST_DATABASE_URL overrides; no server = failure):
// URL resolution, migration, inspection, and the refusal of the governed runtime on a database.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  DATABASE_URL_ENV,
  inspectDatabase,
  migrateDatabase,
  RuntimeError,
  redactDatabaseUrl,
  refuseDatabaseRuntime,
  resolveDatabaseUrl,
} from '../src/index.ts';

const db = await createTestDatabase('store_select');
afterAll(() => db.drop());

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as RuntimeError).code;
  }
  return undefined;
};

describe('store selection: a shared PostgreSQL database', () => {
  it('resolves the URL from the option, else the environment; refuses what is not postgres://', () => {
    const env = { [DATABASE_URL_ENV]: 'postgres://env@h/db' };
    expect(resolveDatabaseUrl('postgresql://opt@h/db', env)).toBe('postgresql://opt@h/db');
    expect(resolveDatabaseUrl(undefined, env)).toBe('postgres://env@h/db');
    expect(resolveDatabaseUrl(undefined, {})).toBeUndefined();
    expect(resolveDatabaseUrl(undefined, { [DATABASE_URL_ENV]: '' })).toBeUndefined();
    expect(codeOf(() => resolveDatabaseUrl('mysql://x', {}))).toBe('USAGE');
    expect(codeOf(() => resolveDatabaseUrl('/var/run/postgresql', {}))).toBe('USAGE');
  });

  it('never shows a password; refuses to run the governed runtime on a database (no fallback)', () => {
    expect(redactDatabaseUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactDatabaseUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactDatabaseUrl('postgres://[bad')).not.toContain('bad');
    let error: unknown;
    try {
      refuseDatabaseRuntime('postgres://u:secret@h/db');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('DATABASE_RUNTIME_UNSUPPORTED');
    expect(`${(error as Error).message} ${(error as RuntimeError).hint}`).not.toContain('secret');
  });

  it('migrates idempotently and reports the schema version; an unreachable server is STORE_UNAVAILABLE', async () => {
    expect(await inspectDatabase({ url: db.url, schema: 's1' })).toMatchObject({
      ok: false,
      reachable: true,
      version: 0,
      code: 'STORE_UNSUPPORTED_VERSION',
    });
    const first = await migrateDatabase({ url: db.url, schema: 's1' });
    expect(first.applied).toBeGreaterThan(0);
    expect(first).not.toHaveProperty('granted');
    expect(await migrateDatabase({ url: db.url, schema: 's1' })).toEqual({
      applied: 0,
      version: first.version,
    });
    const status = await inspectDatabase({ url: db.url, schema: 's1' });
    expect(status).toMatchObject({
      ok: true,
      reachable: true,
      version: first.version,
      expected: first.version,
    });
    const down = await inspectDatabase({ url: 'postgres://postgres@127.0.0.1:1/x', connectTimeoutMs: 2000 });
    expect(down).toMatchObject({ ok: false, reachable: false, code: 'STORE_UNAVAILABLE' });
    await expect(migrateDatabase({ url: 'postgres://postgres@127.0.0.1:1/x' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });
});
