// No store, no effect: every way the database can fail ends in a stable StoreError code before
// anything is written, and the store recovers once the database does.
import { type GovernedCallRecord, StoreError } from '@helm/store';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChainState, GENESIS, makeCall } from '../../store/test/fixtures/chain.ts';
import { openPostgresStore, PostgresStore, type PostgresStoreOptions, SCHEMA_VERSION } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

const db = await createTestDatabase('failure');
let admin: pg.Client;
beforeAll(async () => {
  admin = await raw(db.url);
});
afterAll(async () => {
  await admin.end();
  await db.drop();
});

const open: PostgresStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
let n = 0;
async function store(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId: 'n1',
    schema: `f${++n}`,
    ...options,
  });
  open.push(s);
  return s;
}

const fresh = (): ChainState => ({ lamport: 0, hash: GENESIS });
async function rejectsWith(p: Promise<unknown>, code: string): Promise<StoreError> {
  let caught: unknown;
  await p.then(
    () => undefined,
    (e: unknown) => {
      caught = e;
    },
  );
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  return caught as StoreError;
}

describe('I-FAILCLOSED-3: the database unreachable', () => {
  it('fails open with STORE_UNAVAILABLE (nothing listening, no such database)', async () => {
    await rejectsWith(
      openPostgresStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
        nodeId: 'n',
        connectTimeoutMs: 2_000,
      }),
      'STORE_UNAVAILABLE',
    );
    const missing = new URL(db.url);
    missing.pathname = '/helm_no_such_database';
    await rejectsWith(
      openPostgresStore({ connectionString: missing.toString(), nodeId: 'n' }),
      'STORE_UNAVAILABLE',
    );
  });

  it('refuses admissions, commits, reads and ledger moves with STORE_UNAVAILABLE — before any effect', async () => {
    const s = new PostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      nodeId: 'n',
      connectTimeoutMs: 2_000,
    });
    open.push(s);
    await rejectsWith(s.admitCall({ id: 'a', sessionId: 's', body: {} }), 'STORE_UNAVAILABLE');
    await rejectsWith(s.commitCall(makeCall(fresh(), 's', 0)), 'STORE_UNAVAILABLE');
    await rejectsWith(s.chainHead(), 'STORE_UNAVAILABLE');
    await rejectsWith(s.ledgerReserve([{ account: 'a', ceiling: 1 }], 1), 'STORE_UNAVAILABLE');
    await rejectsWith(s.consumeNonce('d', 'x'), 'STORE_UNAVAILABLE');
  });

  it('a backend killed mid-transaction: rolled back by the server, retried once on a new connection, written once', async () => {
    const s = await store({ nodeId: 'killme', lockTimeoutMs: 20_000 });
    const st = fresh();
    await s.commitCall(makeCall(st, 's', 0));
    // Park the store's transaction on the chain head, then kill its backend.
    await admin.query('BEGIN');
    await admin.query(`SELECT 1 FROM ${s.schema}.chain_heads WHERE chain_id = 'default' FOR UPDATE`);
    const pending = s.commitCall(makeCall(st, 's', 1));
    let killed = 0;
    for (let i = 0; i < 500 && killed === 0; i++) {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'helm:killme' AND wait_event_type = 'Lock'`,
      );
      killed = rows.length;
      if (killed === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(killed).toBe(1);
    await admin.query('ROLLBACK');
    expect(await pending).toEqual({ receiptId: 'r-s-2', lamport: 2 });
    expect((await s.receipts()).map((r) => r.lamport)).toEqual([1, 2]);
    // Idle connections killed (a restart, a failover): the next operations reconnect.
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'helm:killme'`,
    );
    expect(await s.consumeNonce('d', 'after-kill')).toBe(true);
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'helm:killme'`,
    );
    expect((await s.chainHead())?.lamport).toBe(2);
    await s.commitCall(makeCall(st, 's', 2));
    expect((await s.receipts()).map((r) => r.lamport)).toEqual([1, 2, 3]);
  });
});

describe('I-FAILCLOSED-3: locks and statements past their timeout', () => {
  it('a chain head held elsewhere fails the commit STORE_TIMEOUT, writing nothing; the chain continues after', async () => {
    const s = await store({ lockTimeoutMs: 150 });
    const st = fresh();
    await s.commitCall(makeCall(st, 's', 0));
    await admin.query('BEGIN');
    await admin.query(`SELECT 1 FROM ${s.schema}.chain_heads WHERE chain_id = 'default' FOR UPDATE`);
    try {
      await rejectsWith(s.commitCall(makeCall({ ...st }, 's', 1)), 'STORE_TIMEOUT');
      // In one group, only the calls of the locked chain fail; the other chain commits.
      const other = fresh();
      const out = await s.commitCalls([
        makeCall({ ...st }, 's', 1),
        makeCall(other, 'o', 0, 'other'),
        makeCall({ ...st }, 's', 1),
        makeCall(other, 'o', 1, 'other'),
      ]);
      expect(out.map((r) => (r instanceof StoreError ? r.code : 'ok'))).toEqual([
        'STORE_TIMEOUT',
        'ok',
        'STORE_TIMEOUT',
        'ok',
      ]);
    } finally {
      await admin.query('ROLLBACK');
    }
    expect((await s.receipts({ chainId: 'default' })).length).toBe(1);
    await s.commitCall(makeCall(st, 's', 1));
    expect((await s.chainHead())?.lamport).toBe(2);
    expect((await s.chainHead('other'))?.lamport).toBe(2);
  });

  it('an account held elsewhere fails the admission STORE_TIMEOUT (lock or statement timeout): no admission, no reservation', async () => {
    for (const options of [{ lockTimeoutMs: 150 }, { lockTimeoutMs: 20_000, statementTimeoutMs: 1_000 }]) {
      const s = await store(options);
      await s.ledgerReserve([{ account: 'acct', ceiling: 10 }], 1);
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM ${s.schema}.ledger_accounts WHERE account = 'acct' FOR UPDATE`);
      try {
        await rejectsWith(
          s.admitCall({ id: 'a', sessionId: 's', reservationId: 'r', body: {} }, [
            { op: 'reserve', id: 'r', charges: [{ account: 'acct', ceiling: 10 }], amount: 1 },
          ]),
          'STORE_TIMEOUT',
        );
        await rejectsWith(s.ledgerReserve([{ account: 'acct', ceiling: 10 }], 1), 'STORE_TIMEOUT');
      } finally {
        await admin.query('ROLLBACK');
      }
      expect(await s.admissions()).toEqual([]);
      expect(await s.ledgerState('acct')).toEqual({ spent: 0, reserved: 1 });
    }
  });
});

describe('without group commit', () => {
  it('each call is its own transaction, with the same results', async () => {
    const s = await store({ groupCommit: false });
    const st = fresh();
    expect(await s.commitCall(makeCall(st, 's', 0))).toEqual({ receiptId: 'r-s-1', lamport: 1 });
    await rejectsWith(s.commitCall(makeCall(fresh(), 's', 0)), 'STORE_CHAIN_CONFLICT');
    expect(s.groupFlushes).toBe(0);
    expect((await s.chainHead())?.lamport).toBe(1);
  });
});

describe('schema versions and migrations', () => {
  it('a serving handle (migrate: false) refuses a schema that is older or newer than the package', async () => {
    await rejectsWith(
      openPostgresStore({ connectionString: db.url, nodeId: 'n', schema: 'never_migrated', migrate: false }),
      'STORE_UNSUPPORTED_VERSION',
    );
    const s = await store();
    expect(await s.schemaVersion()).toBe(SCHEMA_VERSION);
    const serving = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'n2',
      schema: s.schema,
      migrate: false,
    });
    await serving.close();
    await admin.query(`INSERT INTO ${s.schema}.schema_migrations (version, name) VALUES ($1, 'future')`, [
      SCHEMA_VERSION + 1,
    ]);
    await rejectsWith(
      openPostgresStore({ connectionString: db.url, nodeId: 'n3', schema: s.schema }),
      'STORE_UNSUPPORTED_VERSION',
    );
    await rejectsWith(
      openPostgresStore({ connectionString: db.url, nodeId: 'n3', schema: s.schema, migrate: false }),
      'STORE_UNSUPPORTED_VERSION',
    );
  });

  it('a failing migration leaves the previous version intact', async () => {
    await admin.query('CREATE SCHEMA clash');
    await admin.query('CREATE TABLE clash.receipts (x integer)');
    await rejectsWith(
      openPostgresStore({ connectionString: db.url, nodeId: 'n', schema: 'clash' }),
      'STORE_MIGRATION_FAILED',
    );
    // The failed transaction took its version row (and the bookkeeping table) with it.
    expect((await admin.query(`SELECT to_regclass('clash.schema_migrations') AS t`)).rows[0].t).toBeNull();
    expect((await admin.query(`SELECT to_regclass('clash.nonces') AS t`)).rows[0].t).toBeNull();
  });

  it('concurrent migrators apply each version exactly once', async () => {
    const stores = await Promise.all(
      ['m1', 'm2', 'm3'].map((nodeId) =>
        openPostgresStore({ connectionString: db.url, nodeId, schema: 'racing' }),
      ),
    );
    open.push(...stores);
    const { rows } = await admin.query('SELECT version FROM racing.schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });
});

describe('what a database writer could plant or the driver could alter', () => {
  it('a stored JSON document that is not strict JSON is refused on read (duplicate keys)', async () => {
    const s = await store();
    await s.putDocument('ns', 'k', { a: 1 });
    await s.commitCall(makeCall(fresh(), 's', 0));
    await admin.query(`UPDATE ${s.schema}.documents SET value = '{"a":1,"a":2}'`);
    await admin.query(`UPDATE ${s.schema}.receipts SET envelope = '{"payload":"x","payload":"y"}'`);
    await rejectsWith(s.getDocument('ns', 'k'), 'STORE_INVALID_RECORD');
    await rejectsWith(s.receipts(), 'STORE_INVALID_RECORD');
  });

  it('strings PostgreSQL would alter (U+0000, lone surrogates) are refused, never stored as something else', async () => {
    const s = await store();
    await rejectsWith(s.consumeNonce('d', 'a\u0000b'), 'STORE_INVALID_RECORD');
    await rejectsWith(s.consumeNonce('d', '\ud800'), 'STORE_INVALID_RECORD');
    await rejectsWith(s.idempotency('\udc00'), 'STORE_INVALID_RECORD');
    await rejectsWith(s.putIdempotency('k\ud800', 'r', 1), 'STORE_INVALID_RECORD');
    const call: GovernedCallRecord = {
      ...makeCall(fresh(), 's', 0),
      nonces: [{ scope: 'd', nonce: '\ud800' }],
    };
    await rejectsWith(s.commitCall(call), 'STORE_INVALID_RECORD');
    // The replacement character itself is an ordinary, distinct key.
    expect(await s.consumeNonce('d', '\ufffd')).toBe(true);
    expect(await s.nonceUsed('d', '\ufffd')).toBe(true);
    expect(await s.receipts()).toEqual([]);
    expect(() => new PostgresStore({ connectionString: db.url, nodeId: '' })).toThrow(StoreError);
  });

  it('the schema itself forbids a fork or a gap, whoever writes (UNIQUE (chain_id, lamport), no-gap foreign key)', async () => {
    const s = await store();
    const st = fresh();
    await s.commitCall(makeCall(st, 's', 0));
    await s.commitCall(makeCall(st, 's', 1));
    const insert = (lamport: number, id: string) =>
      admin.query(
        `INSERT INTO ${s.schema}.receipts (chain_id, lamport, receipt_id, prev_hash, hash, session_id, envelope)
         VALUES ('default', $1, $2, 'x', 'y', 's', '{}')`,
        [lamport, id],
      );
    await expect(insert(1, 'fork')).rejects.toMatchObject({
      code: '23505',
      constraint: 'receipts_chain_lamport',
    });
    await expect(insert(4, 'gap')).rejects.toMatchObject({ code: '23503', constraint: 'receipts_no_gap' });
    // Cutting a receipt out of the middle is refused as well.
    await expect(admin.query(`DELETE FROM ${s.schema}.receipts WHERE lamport = 1`)).rejects.toMatchObject({
      code: '23503',
    });
  });
});
