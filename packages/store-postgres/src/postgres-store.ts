// The PostgreSQL store: several HELM runtime nodes govern calls against one database without
// forking a chain, overspending a budget, burning a nonce twice or losing an admission.
//
// How each guarantee is made (docs/spec/multi-node.md is normative):
// - chains: each chain has a head row; a commit locks it (`SELECT … FOR UPDATE`, bounded by
//   `lock_timeout`), checks Lamport = head + 1 and the hash link, writes, and moves the head.
//   `UNIQUE (chain_id, lamport)` and a no-gap foreign key back the lock in the schema itself;
// - budgets: account rows are locked in account order before the ceiling is checked, so racing
//   reservations serialize per account and `spent + reserved <= ceiling` always holds;
// - nonces and idempotency keys: `INSERT … ON CONFLICT DO NOTHING` — the first writer wins and
//   every other writer learns it lost;
// - admissions carry the admitting node and a lease on the database clock; only expired leases
//   can be taken over, and a node that lost one cannot close it;
// - every failure is a StoreError with a stable code; the database unreachable, slow past a
//   timeout or a failed transaction means no admission, hence no effect.
import { digest } from '@helm/crypto';
import {
  type AdmissionBatchItem,
  type AdmissionLeases,
  type AdmissionRecord,
  type Artifact,
  type ChainHead,
  type CommitResult,
  DEFAULT_CHAIN,
  type GovernanceApplication,
  type GovernanceEventRow,
  type GovernanceView,
  type GovernedCallRecord,
  type IdempotencyEntry,
  type Json,
  type LeasedAdmission,
  type LedgerAccount,
  type LedgerAccountState,
  type LedgerCharge,
  type LedgerOp,
  type LedgerReservation,
  type LedgerSnapshot,
  type RangeQuery,
  type ReceiptLookup,
  type RuntimeStore,
  type StoredAdmission,
  type StoredDecision,
  type StoredGovernanceApplication,
  type StoredGovernanceChallenge,
  type StoredGovernanceGrant,
  type StoredNode,
  type StoredReceipt,
  type StoredRequest,
  StoreError,
} from '@helm/store';
import { Client, type ClientConfig, escapeIdentifier, Pool, type PoolClient, type QueryResult } from 'pg';
import { CoalescedRead } from './internal/coalesced-read.js';
import { connectionBroken, retryable, toStoreError } from './internal/errors.js';
import { AsyncGroupCommitter } from './internal/group-commit.js';
import { MIGRATIONS, SCHEMA_VERSION } from './internal/migrations.js';
import {
  checkAdmission,
  checkAmount,
  checkCall,
  checkCallText,
  checkGovernanceApplication,
  checkLedger,
  checkText,
  readJson,
} from './internal/records.js';
import { requireSecureTransport } from './internal/transport.js';

/** Leadership of one role, held until released or lost. */
export interface Leadership {
  readonly role: string;
  /** Resolves when the leadership ended without `release()` (its connection is gone). */
  readonly lost: Promise<void>;
  /** Give the leadership up (ends its connection). */
  release(): Promise<void>;
}

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` (libpq URL; credentials may also come from PG* variables of the caller). */
  readonly connectionString: string;
  /**
   * This runtime node's id: stamped on its admissions and reservations. Unique per running
   * process — two processes with one id would share leases (chains still never fork).
   */
  readonly nodeId: string;
  /** Schema holding the tables (default `public`); created by `migrate()` if absent. */
  readonly schema?: string;
  /** Connections in this handle's pool (default 4). */
  readonly poolSize?: number;
  /** Longest wait for a row lock, e.g. a chain head (default 2000 ms); past it: STORE_TIMEOUT. */
  readonly lockTimeoutMs?: number;
  /** Longest statement (default 10000 ms); past it: STORE_TIMEOUT. */
  readonly statementTimeoutMs?: number;
  /** Longest wait for a connection (default 5000 ms); past it: STORE_UNAVAILABLE. */
  readonly connectTimeoutMs?: number;
  /** Admission and reservation lease (default 30000 ms): renew well within it. */
  readonly leaseMs?: number;
  /** Batch concurrently submitted calls into one transaction (default true). */
  readonly groupCommit?: boolean;
  /** Largest group (default 256). */
  readonly maxBatch?: number;
  /**
   * Apply pending migrations at open (default true). A serving role without DDL rights opens
   * with `false`: a schema older than this package is then refused (STORE_UNSUPPORTED_VERSION)
   * until a migrating role has run `migrate()`.
   */
  readonly migrate?: boolean;
}

type Row = Record<string, unknown>;
/** A `freshness` reading. */
type Freshness = {
  readonly documents: number;
  readonly head: string;
  readonly governance: { readonly seq: number; readonly chain: string } | undefined;
  readonly databaseNowMs: number;
};
/** The signed envelope type of @helm/contracts, as the store's records carry it. */
type SignedEnvelope = GovernanceEventRow['envelope'];
type Head = { lamport: number; hash: string; receiptId: string } | StoreError;

const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const RESERVATION_ID = /^budget-res-(\d+)$/;
/** Namespace of HELM's advisory locks (first key of the two-key form). */
const LOCK_NAMESPACE = 0x48454c4d; // "HELM"
/** Attempts of a transaction that lost a deadlock or serialization race. */
const MAX_ATTEMPTS = 4;
/**
 * Attempts of an operation whose connection broke before COMMIT: one retry, on a fresh
 * connection (a pooled connection the server dropped). A server that stopped answering fails
 * closed after two connect or query timeouts, not more.
 */
const CONNECTION_ATTEMPTS = 2;

/**
 * A call failed after some of its rows were written, in a transaction without savepoints: roll
 * the transaction back and report the failure in the call's slot (`index`).
 */
class CallFailed extends Error {
  constructor(
    readonly index: number,
    readonly error: StoreError,
  ) {
    super(error.message);
  }
}

/**
 * A group of plain calls (`groupable`) could not be written by `#writeGroup` as a whole (a call
 * whose admission or reservation is not open, a duplicate row, a ceiling …): the transaction is
 * rolled back and the group written again call by call, which reports the failing call in its slot.
 */
class GroupFailed extends Error {
  constructor(readonly error: unknown) {
    super('the group could not be written as a whole');
  }
}

/**
 * A callback of the caller (e.g. `appendGovernanceEvent`'s `make`) threw inside a transaction:
 * roll back and rethrow its error unchanged — it is not a database failure, so it is neither
 * reported as one nor retried (the callback runs once).
 */
class CallerFailed extends Error {
  constructor(readonly error: unknown) {
    super('a caller callback failed');
  }
}

/** A `receipts` row as the port's StoredReceipt (range reads and the lookup by id read the same). */
function receiptOfRow(row: Row): StoredReceipt {
  return {
    chainId: str(row.chain_id),
    sessionId: str(row.session_id),
    id: str(row.receipt_id),
    lamport: num(row.lamport),
    prevHash: str(row.prev_hash),
    hash: str(row.hash),
    ...(row.decision_id == null ? {} : { decisionId: str(row.decision_id) }),
    ...(row.risk_tier == null ? {} : { riskTier: str(row.risk_tier) }),
    envelope: readJson(row.envelope, 'a stored receipt'),
  };
}

function checkValues(values: readonly unknown[]): void {
  for (const v of values) {
    if (typeof v === 'string') checkText(v, 'a value');
    else if (Array.isArray(v)) checkValues(v);
  }
}

const prepared = new Map<string, string>();

/** Run `text` as a named (server-side prepared) statement on `c`, after checking every string. */
function q(c: PoolClient | Pool, text: string, values: readonly unknown[] = []): Promise<QueryResult<Row>> {
  checkValues(values);
  let name = prepared.get(text);
  if (name === undefined) {
    name = `helm_${prepared.size}`;
    prepared.set(text, name);
  }
  return c.query<Row>({ name, text, values: values as unknown[] });
}

/**
 * A batch `#admitBatch` can write: at least one admission, and every one's movements are
 * reservations only, it holds (if any) the reservation it makes, and it uses no grant.
 */
function batchable(
  items: readonly ({ admission: AdmissionRecord; ledger: readonly LedgerOp[] } | Error)[],
): boolean {
  let n = 0;
  for (const p of items) {
    if (p instanceof Error) continue;
    n += 1;
    if (p.admission.grant !== undefined || p.admission.idempotency !== undefined) return false;
    if (!p.ledger.every((o) => o.op === 'reserve')) return false;
    const r = p.admission.reservationId;
    if (r != null && !p.ledger.some((o) => o.op === 'reserve' && o.id === r)) return false;
  }
  return n > 0;
}

/**
 * A group `#writeGroup` can write: calls all of one chain, each closing its
 * admission and settling reservations only (commit or refund), with nothing else beside its
 * receipt, decision, request and nodes — every plain governed call. The other calls (idempotency
 * records, nonces, budgets, challenges, governance) are written call by call.
 */
function groupable(records: readonly GovernedCallRecord[]): boolean {
  if (records.length < 1) return false;
  const chain = records[0]?.chainId ?? DEFAULT_CHAIN;
  return records.every(
    (r) =>
      typeof r === 'object' &&
      r !== null &&
      (r.chainId ?? DEFAULT_CHAIN) === chain &&
      typeof r.admissionId === 'string' &&
      r.idempotency === undefined &&
      r.governance === undefined &&
      (r.nonces ?? []).length === 0 &&
      (r.budget ?? []).length === 0 &&
      (r.challenges ?? []).length === 0 &&
      (r.closedChallenges ?? []).length === 0 &&
      Array.isArray(r.ledger ?? []) &&
      (r.ledger ?? []).every((o) => o?.op === 'commit' || o?.op === 'refund'),
  );
}

function countOf(accounts: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of accounts) m.set(a, (m.get(a) ?? 0) + 1);
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Open a store handle; runs pending migrations unless `migrate: false`. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    if (options.migrate === false) await store.checkSchema();
    else await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export class PostgresStore implements RuntimeStore, AdmissionLeases {
  readonly nodeId: string;
  readonly schema: string;
  readonly #pool: Pool;
  readonly #connection: ClientConfig;
  readonly #leaders = new Set<Client>();
  readonly #s: string;
  readonly #leaseMs: number;
  readonly #committer: AsyncGroupCommitter<GovernedCallRecord, CommitResult> | undefined;
  #closed = false;

  /** The admission and reservation lease of this handle (ms on the database clock). */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  constructor(options: PostgresStoreOptions) {
    if (typeof options?.nodeId !== 'string' || options.nodeId.length === 0) {
      throw new StoreError('STORE_INVALID_RECORD', 'nodeId must be a non-empty string');
    }
    checkText(options.nodeId, 'nodeId');
    // Before any socket is opened: a remote database is reached over verified TLS only.
    requireSecureTransport(options.connectionString);
    this.nodeId = options.nodeId;
    this.schema = options.schema ?? 'public';
    checkText(this.schema, 'schema');
    this.#s = escapeIdentifier(this.schema);
    this.#leaseMs = options.leaseMs ?? 30_000;
    const statementTimeout = options.statementTimeoutMs ?? 10_000;
    this.#connection = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 5_000,
      keepAlive: true,
      application_name: `helm:${this.nodeId}:leader`.slice(0, 63),
    };
    this.#pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      lock_timeout: options.lockTimeoutMs ?? 2_000,
      statement_timeout: statementTimeout,
      // A node that stalls inside a transaction must not hold a chain head or an account forever.
      idle_in_transaction_session_timeout: Math.max(statementTimeout, 5_000),
      // Client-side guard for a server that stops answering (network partition).
      query_timeout: statementTimeout + 5_000,
      keepAlive: true,
      application_name: `helm:${this.nodeId}`.slice(0, 63),
    });
    // An idle connection the server drops (restart, pg_terminate_backend) is reported here; the
    // pool discards it and the next operation reconnects.
    this.#pool.on('error', () => {});
    // A backend killed right after it connected can send ReadyForQuery and its FATAL error in one
    // packet: the pool hands the client out (dropping its idle listener) in the middle of parsing
    // it, and the error is emitted before the borrower's listener is attached — an unhandled
    // 'error' that would crash the node. Every pooled client keeps this listener for its life;
    // the borrower still sees the failure (the client is no longer queryable: the next query
    // fails as a lost connection and is retried on a fresh one).
    this.#pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    this.#committer =
      options.groupCommit === false
        ? undefined
        : new AsyncGroupCommitter((items) => this.#commitBatch(items), options.maxBatch ?? 256);
  }

  /** Transactions performed by group commit (for benchmarks). */
  get groupFlushes(): number {
    return this.#committer?.flushes ?? 0;
  }

  #t(table: string): string {
    return `${this.#s}.${table}`;
  }

  #open(): void {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'store is closed');
  }

  // ── connections and transactions ──────────────────────────────────────────────────────────

  async #client(what: string): Promise<{
    c: PoolClient;
    broken: () => Error | undefined;
    release: (error: Error | undefined) => void;
  }> {
    this.#open();
    let c: PoolClient;
    try {
      c = await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error, what);
    }
    let lost: Error | undefined;
    const onError = (e: Error): void => {
      lost = e;
    };
    c.on('error', onError);
    return {
      c,
      broken: () => lost,
      release: (error) => {
        c.removeListener('error', onError);
        c.release(error ?? lost);
      },
    };
  }

  /**
   * Run `fn` in one transaction (READ COMMITTED; every invariant is held by row locks taken in a
   * fixed order), and reject with a StoreError on any failure after rolling back. Retried as a
   * whole (nothing of a failed attempt is kept): deadlocks and serialization failures, and a
   * connection that broke before COMMIT was sent (a pooled connection the server dropped, a
   * killed backend). A connection that breaks during COMMIT leaves the outcome unknown: that is
   * STORE_UNAVAILABLE, never a retry, so nothing is written twice.
   */
  async #tx<T>(what: string, fn: (c: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { c, broken, release } = await this.#client(what);
      let discard: Error | undefined;
      let committing = false;
      try {
        await c.query(begin);
        const out = await fn(c);
        committing = true;
        await c.query('COMMIT');
        return out;
      } catch (error) {
        // A caller's callback failed, or a fast path gave up (GroupFailed): not a database
        // failure — roll back and hand it up, never retried here nor taken for a lost connection.
        if ((error instanceof CallerFailed || error instanceof GroupFailed) && broken() === undefined) {
          try {
            await c.query('ROLLBACK');
          } catch (e) {
            discard = e as Error;
          }
          throw error instanceof CallerFailed ? error.error : error;
        }
        const inner = error instanceof CallFailed ? error.error : error;
        const cause = inner instanceof StoreError ? inner.cause : inner;
        const lost =
          broken() !== undefined ||
          (inner instanceof StoreError ? inner.code === 'STORE_UNAVAILABLE' : connectionBroken(inner));
        discard = lost ? (broken() ?? (inner as Error)) : undefined;
        if (!lost) {
          try {
            await c.query('ROLLBACK');
          } catch (e) {
            discard = e as Error;
          }
        }
        if (lost && committing) {
          throw new StoreError(
            'STORE_UNAVAILABLE',
            `${what}: the connection failed during COMMIT; the outcome is unknown`,
            {
              cause,
            },
          );
        }
        if (lost ? attempt < CONNECTION_ATTEMPTS : retryable(cause) && attempt < MAX_ATTEMPTS) continue;
        if (error instanceof CallFailed || error instanceof GroupFailed) throw error;
        throw toStoreError(error, what);
      } finally {
        release(discard);
      }
    }
  }

  /**
   * A read: one statement. A pooled connection that turns out dead is replaced and the read
   * retried; a server that cannot be connected to fails at once (within the connect timeout).
   */
  async #read(what: string, text: string, values: readonly unknown[] = []): Promise<Row[]> {
    for (let attempt = 1; ; attempt++) {
      const { c, broken, release } = await this.#client(what);
      let discard: Error | undefined;
      try {
        return (await q(c, text, values)).rows;
      } catch (error) {
        const lost = broken() !== undefined || (!(error instanceof StoreError) && connectionBroken(error));
        discard = lost ? (broken() ?? (error as Error)) : undefined;
        if (lost && attempt < CONNECTION_ATTEMPTS) continue;
        throw toStoreError(error, what);
      } finally {
        release(discard);
      }
    }
  }

  /** A one-statement write, in a transaction (so a broken connection is retried only when safe). */
  async #write(what: string, text: string, values: readonly unknown[] = []): Promise<Row[]> {
    return this.#tx(what, async (c) => (await q(c, text, values)).rows);
  }

  // ── schema ────────────────────────────────────────────────────────────────────────────────

  /** The schema version of the database (0 when HELM's tables do not exist yet). */
  async schemaVersion(): Promise<number> {
    const rows = await this.#read(
      'read schema version',
      `SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE -1 END AS v`,
      [`${this.#s}.schema_migrations`],
    );
    if (num(rows[0]?.v) === 0) return 0;
    const v = await this.#read(
      'read schema version',
      `SELECT COALESCE(MAX(version), 0) AS v FROM ${this.#t('schema_migrations')}`,
    );
    return num(v[0]?.v);
  }

  /** Refuse a schema this package does not match exactly (for handles opened without migrating). */
  async checkSchema(): Promise<void> {
    const v = await this.schemaVersion();
    if (v !== SCHEMA_VERSION) {
      throw new StoreError(
        'STORE_UNSUPPORTED_VERSION',
        v > SCHEMA_VERSION
          ? `database schema v${v} is newer than this helm (v${SCHEMA_VERSION}); upgrade helm`
          : `database schema v${v} is older than this helm (v${SCHEMA_VERSION}); run the migrations (helm db migrate)`,
      );
    }
  }

  /** Apply pending migrations (idempotent; safe to run from several nodes at once). Returns how many ran. */
  async migrate(): Promise<number> {
    // A current schema needs no DDL: a serving role without CREATE rights opens it as well. A
    // server that cannot be reached fails here, once; any other read failure (e.g. no USAGE on
    // the schema yet) is left to the migration transaction to report.
    const current = await this.schemaVersion().catch((error: unknown) => {
      const code = (error as StoreError).code;
      if (code === 'STORE_UNAVAILABLE' || code === 'STORE_TIMEOUT' || code === 'STORE_CLOSED') throw error;
      return -1;
    });
    if (current === SCHEMA_VERSION) return 0;
    let applied = 0;
    for (;;) {
      const ran = await this.#tx('migrate', async (c) => {
        // DDL may outlast the serving statement timeout; the lock timeout still bounds its waits.
        await c.query('SET LOCAL statement_timeout = 0');
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
          LOCK_NAMESPACE,
          `migrate:${this.schema}`,
        ]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.#s}`);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${this.#t('schema_migrations')} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const row = (
          await c.query<Row>(`SELECT COALESCE(MAX(version), 0) AS v FROM ${this.#t('schema_migrations')}`)
        ).rows[0];
        const current = num(row?.v);
        if (current > SCHEMA_VERSION) {
          throw new StoreError(
            'STORE_UNSUPPORTED_VERSION',
            `database schema v${current} is newer than this helm (v${SCHEMA_VERSION}); upgrade helm`,
          );
        }
        const next = MIGRATIONS.find((m) => m.version > current);
        if (!next) return false;
        try {
          await c.query(next.sql.replaceAll('$S', this.#s));
          await c.query(`INSERT INTO ${this.#t('schema_migrations')} (version, name) VALUES ($1, $2)`, [
            next.version,
            next.name,
          ]);
        } catch (error) {
          const e = toStoreError(error, `migration ${next.version}`);
          if (
            e.code === 'STORE_UNAVAILABLE' ||
            e.code === 'STORE_TIMEOUT' ||
            e.code === 'STORE_PERMISSION_DENIED'
          )
            throw e;
          throw new StoreError('STORE_MIGRATION_FAILED', `migration ${next.version} failed`, {
            cause: error,
          });
        }
        return true;
      });
      if (!ran) return applied;
      applied += 1;
    }
  }

  /**
   * Give a serving role (one without DDL rights) what a runtime node needs on this schema: read
   * and write its rows and draw reservation ids — never create, alter, drop or truncate. Run by
   * the migrating role (the schema's owner) after `migrate()`; idempotent.
   */
  async grantServingRole(role: string): Promise<void> {
    if (typeof role !== 'string' || role.length === 0)
      throw new StoreError('STORE_INVALID_RECORD', 'role must be a non-empty string');
    checkText(role, 'role');
    const r = escapeIdentifier(role);
    await this.#tx('grant serving role', async (c) => {
      await c.query(`GRANT USAGE ON SCHEMA ${this.#s} TO ${r}`);
      await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${this.#s} TO ${r}`);
      await c.query(`REVOKE INSERT, UPDATE, DELETE ON ${this.#t('schema_migrations')} FROM ${r}`);
      await c.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${this.#s} TO ${r}`);
    });
  }

  // ── governed calls ────────────────────────────────────────────────────────────────────────

  async #lockHead(c: PoolClient, chainId: string): Promise<Head> {
    const select = `SELECT lamport, hash, receipt_id FROM ${this.#t('chain_heads')} WHERE chain_id = $1 FOR UPDATE`;
    let row = (await q(c, select, [chainId])).rows[0];
    if (!row) {
      await q(
        c,
        `INSERT INTO ${this.#t('chain_heads')} (chain_id, lamport, hash, receipt_id) VALUES ($1, 0, '', '') ON CONFLICT (chain_id) DO NOTHING`,
        [chainId],
      );
      row = (await q(c, select, [chainId])).rows[0];
    }
    return { lamport: num(row?.lamport), hash: str(row?.hash), receiptId: str(row?.receipt_id) };
  }

  /**
   * Checks that write nothing (record shape, every string, the chain link): a call failing here
   * leaves its transaction untouched.
   */
  #precheck(record: GovernedCallRecord, heads: Map<string, Head>): void {
    checkCall(record);
    checkCallText(record);
    const chainId = record.chainId ?? DEFAULT_CHAIN;
    const r = record.receipt;
    const head = heads.get(chainId);
    if (head === undefined) throw new StoreError('STORE_IO', `chain ${chainId} was not locked`);
    if (head instanceof StoreError) throw head;
    const expected = head.lamport + 1;
    if (r.lamport !== expected || (head.lamport > 0 && r.prevHash !== head.hash)) {
      throw new StoreError(
        'STORE_CHAIN_CONFLICT',
        `receipt ${r.id} does not extend chain ${chainId} (expected Lamport ${expected}${head.lamport > 0 ? ` after ${head.hash}` : ''})`,
      );
    }
  }

  /** Write one prechecked call. Only STORE_IDEMPOTENCY_CONFLICT is thrown with nothing written. */
  async #writeCall(
    c: PoolClient,
    record: GovernedCallRecord,
    heads: Map<string, Head>,
  ): Promise<CommitResult> {
    const chainId = record.chainId ?? DEFAULT_CHAIN;
    const r = record.receipt;
    const nodes = record.nodes ?? [];
    // One statement for the idempotency record, receipt, decision, request and nodes; when the
    // idempotency key is taken, nothing else is written (first writer wins) — unless the call
    // supersedes exactly the record it saw expire: a compare-and-swap on the stored receipt id
    // (the conflicting row is locked, so of two racing supersessions one wins).
    const res = await q(
      c,
      `WITH i AS (
         INSERT INTO ${this.#t('idempotency')} AS t (idem_key, receipt_id, value)
         SELECT $12::text, $3, $13 WHERE $12::text IS NOT NULL
         ON CONFLICT (idem_key) DO UPDATE SET receipt_id = EXCLUDED.receipt_id, value = EXCLUDED.value
           WHERE t.receipt_id = $21::text
         RETURNING 1
       ), go AS (SELECT ($12::text IS NULL OR EXISTS (SELECT 1 FROM i)) AS ok),
       r AS (
         INSERT INTO ${this.#t('receipts')} (chain_id, lamport, receipt_id, prev_hash, hash, session_id, decision_id, risk_tier, envelope)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM go WHERE go.ok
       ), d AS (
         INSERT INTO ${this.#t('decisions')} (decision_id, session_id, envelope)
         SELECT $10::text, $6, $11 FROM go WHERE go.ok AND $10::text IS NOT NULL
       ), rq AS (
         INSERT INTO ${this.#t('requests')} (request_id, receipt_id, chain_id, lamport, session_id, body)
         SELECT $14::text, $3, $1, $2, $6, $15 FROM go WHERE go.ok AND $14::text IS NOT NULL
       ), n AS (
         INSERT INTO ${this.#t('nodes')} (node_id, kind, lamport, parents, session_id, body)
         SELECT x.id, x.kind, x.lamport, x.parents, $6, x.body
         FROM go, unnest($16::text[], $17::text[], $18::bigint[], $19::text[], $20::text[]) AS x(id, kind, lamport, parents, body)
         WHERE go.ok
       )
       SELECT ok FROM go`,
      [
        chainId,
        r.lamport,
        r.id,
        r.prevHash,
        r.hash,
        record.sessionId,
        r.decisionId ?? null,
        r.riskTier ?? null,
        JSON.stringify(r.envelope),
        record.decision?.id ?? null,
        record.decision ? JSON.stringify(record.decision.envelope) : null,
        record.idempotency?.key ?? null,
        record.idempotency ? JSON.stringify(record.idempotency.value) : null,
        record.request?.id ?? null,
        record.request ? JSON.stringify(record.request.body) : null,
        nodes.map((n) => n.id),
        nodes.map((n) => n.kind),
        nodes.map((n) => n.lamport),
        nodes.map((n) => JSON.stringify(n.parents)),
        nodes.map((n) => JSON.stringify(n.body)),
        record.idempotency?.supersedes ?? null,
      ],
    );
    if (res.rows[0]?.ok !== true) {
      throw new StoreError(
        'STORE_IDEMPOTENCY_CONFLICT',
        `idempotency key ${record.idempotency?.key} already recorded`,
      );
    }
    const nonces = record.nonces ?? [];
    if (nonces.length > 0) {
      const ins = await q(
        c,
        `INSERT INTO ${this.#t('nonces')} (scope, nonce) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
        [nonces.map((n) => n.scope), nonces.map((n) => n.nonce)],
      );
      if (ins.rowCount !== nonces.length) {
        throw new StoreError('STORE_NONCE_REUSED', `a nonce of call ${r.id} was already used`);
      }
    }
    for (const [seq, m] of (record.budget ?? []).entries()) {
      const b = await q(
        c,
        `WITH b AS (
           INSERT INTO ${this.#t('budgets')} AS t (budget_key, balance) VALUES ($1, $2)
           ON CONFLICT (budget_key) DO UPDATE SET balance = t.balance + EXCLUDED.balance RETURNING balance
         ), m AS (
           INSERT INTO ${this.#t('budget_movements')} (receipt_id, seq, budget_key, delta) SELECT $3, $4, $1, $2 FROM b
         ) SELECT balance FROM b`,
        [m.key, m.delta, r.id, seq],
      );
      const balance = num(b.rows[0]?.balance);
      if (m.limit !== undefined && balance > m.limit) {
        throw new StoreError('STORE_BUDGET_EXCEEDED', `budget ${m.key} would reach ${balance} > ${m.limit}`);
      }
    }
    if (record.admissionId !== undefined) await this.#closeAdmission(c, record.admissionId);
    await this.#applyLedger(c, record.ledger ?? []);
    const challenges = record.challenges ?? [];
    if (challenges.length > 0) {
      await q(
        c,
        `INSERT INTO ${this.#t('governance_challenges')}
           (challenge_id, chain_id, created_at_ms, expires_at_ms, receipt_id, closed, envelope, request)
         SELECT x.id, x.chain, x.created, x.expires, $5, NULL, x.envelope, x.request
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $6::text[], $7::text[])
           AS x(id, chain, created, expires, envelope, request)
         ON CONFLICT (challenge_id) DO NOTHING`,
        [
          challenges.map((ch) => ch.id),
          challenges.map((ch) => ch.chainId),
          challenges.map((ch) => ch.createdAtMs),
          challenges.map((ch) => ch.expiresAtMs),
          r.id,
          challenges.map((ch) => JSON.stringify(ch.envelope)),
          challenges.map((ch) => JSON.stringify(ch.request)),
        ],
      );
    }
    for (const closed of record.closedChallenges ?? []) {
      await q(
        c,
        `UPDATE ${this.#t('governance_challenges')} SET closed = $1 WHERE challenge_id = $2 AND closed IS NULL`,
        [closed.why, closed.id],
      );
    }
    if (record.governance !== undefined) await this.#applyGovernanceIn(c, record.governance);
    heads.set(chainId, { lamport: r.lamport, hash: r.hash, receiptId: r.id });
    return { receiptId: r.id, lamport: r.lamport };
  }

  async #closeAdmission(c: PoolClient, id: string): Promise<void> {
    const del = await q(c, `DELETE FROM ${this.#t('admissions')} WHERE admission_id = $1 AND node_id = $2`, [
      id,
      this.nodeId,
    ]);
    if (del.rowCount === 1) return;
    const other = (await q(c, `SELECT node_id FROM ${this.#t('admissions')} WHERE admission_id = $1`, [id]))
      .rows[0];
    if (other) {
      throw new StoreError(
        'STORE_LEASE_LOST',
        `admission ${id} belongs to node ${str(other.node_id)} now (this node's lease expired and it was taken over)`,
      );
    }
    throw new StoreError('STORE_INVALID_RECORD', `admission ${id} is not open`);
  }

  /**
   * Commit calls in ONE transaction. The head of every chain they extend is locked first, in
   * chain order (a head lock must outlive a failing call, so it is never taken inside a call's
   * savepoint). The first attempt writes the calls one after the other without savepoints (two
   * round trips per call fewer); a call that fails after writing rows rolls the transaction back,
   * and the batch is written again with that call reported in its slot and every call in a
   * SAVEPOINT of its own, so a failing call is rolled back alone. A batch is written at most twice.
   */
  async #commitBatch(records: readonly GovernedCallRecord[]): Promise<(CommitResult | Error)[]> {
    const chains = [
      ...new Set(
        records
          .map((r) => (r?.chainId === undefined ? DEFAULT_CHAIN : r.chainId))
          .filter((id): id is string => typeof id === 'string'),
      ),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const failed = new Map<number, StoreError>();
    let savepoints = false;
    let grouped = groupable(records);
    const attempt = async (c: PoolClient): Promise<(CommitResult | Error)[]> => {
      if (grouped) return this.#writeGroup(c, records);
      const heads = new Map<string, Head>();
      for (const chainId of chains) {
        if (chains.length === 1) {
          // One chain: if its head cannot be locked, every call of the batch fails the same way.
          try {
            heads.set(chainId, await this.#lockHead(c, chainId));
          } catch (error) {
            if (!(error instanceof StoreError) && connectionBroken(error)) throw error;
            throw new CallFailed(-1, toStoreError(error, `lock the head of chain ${chainId}`));
          }
          continue;
        }
        await c.query('SAVEPOINT head');
        try {
          heads.set(chainId, await this.#lockHead(c, chainId));
          await c.query('RELEASE SAVEPOINT head');
        } catch (error) {
          if (!(error instanceof StoreError) && connectionBroken(error)) throw error;
          await c.query('ROLLBACK TO SAVEPOINT head');
          await c.query('RELEASE SAVEPOINT head');
          heads.set(chainId, toStoreError(error, `lock the head of chain ${chainId}`));
        }
      }
      const initial = new Map(heads);
      const results: (CommitResult | Error)[] = [];
      for (const [index, record] of records.entries()) {
        const known = failed.get(index);
        if (known) {
          results.push(known);
          continue;
        }
        try {
          this.#precheck(record, heads);
        } catch (error) {
          results.push(toStoreError(error, 'commit governed call'));
          continue;
        }
        const chainId = record.chainId ?? DEFAULT_CHAIN;
        const prior = heads.get(chainId);
        if (savepoints) await c.query('SAVEPOINT call');
        try {
          results.push(await this.#writeCall(c, record, heads));
          if (savepoints) await c.query('RELEASE SAVEPOINT call');
        } catch (error) {
          if (!(error instanceof StoreError) && (connectionBroken(error) || retryable(error))) throw error;
          const e = toStoreError(error, 'commit governed call');
          if (savepoints) {
            await c.query('ROLLBACK TO SAVEPOINT call');
            await c.query('RELEASE SAVEPOINT call');
          } else if (e.code !== 'STORE_IDEMPOTENCY_CONFLICT') {
            throw new CallFailed(index, e);
          }
          if (prior !== undefined) heads.set(chainId, prior);
          results.push(e);
        }
      }
      for (const [chainId, h] of heads) {
        if (h instanceof StoreError || h === initial.get(chainId)) continue;
        await q(
          c,
          `UPDATE ${this.#t('chain_heads')} SET lamport = $2, hash = $3, receipt_id = $4 WHERE chain_id = $1`,
          [chainId, h.lamport, h.hash, h.receiptId],
        );
      }
      return results;
    };
    for (;;) {
      try {
        return await this.#tx('commit governed calls', attempt);
      } catch (error) {
        if (error instanceof GroupFailed) {
          grouped = false;
          continue;
        }
        if (!(error instanceof CallFailed)) throw error;
        if (error.index < 0) return records.map(() => error.error);
        failed.set(error.index, error.error);
        if (records.length === failed.size) return records.map((_, i) => failed.get(i) as StoreError);
        savepoints = true;
      }
    }
  }

  /**
   * Write a `groupable` group as a whole, in two statements instead of seven plus five per call:
   * (1) the chain's head moved from the Lamport before the group's first receipt to its last — a
   * compare-and-swap on the head row (created if the group starts the chain), which locks it
   * before anything else is written, and nothing is written unless it held — with every receipt, decision, request and node inserted and every
   * admission closed and reservation deleted; (2) the accounts the reservations charge locked in
   * account order (as `#settleIn` locks them) and moved by their sums. Each call is checked as the
   * call-by-call write checks it (chain link, its admission open and this node's, its reservation
   * open, every unique row new); any failure throws `GroupFailed`, and the group is written again
   * call by call (head locked first) — which ends it exactly as if it had never been tried whole.
   */
  async #writeGroup(c: PoolClient, records: readonly GovernedCallRecord[]): Promise<CommitResult[]> {
    const chainId = records[0]?.chainId ?? DEFAULT_CHAIN;
    const spend = new Map<string, boolean>();
    let from: Head;
    try {
      checkCall(records[0] as GovernedCallRecord);
      const first = (records[0] as GovernedCallRecord).receipt;
      // The head the group must extend: what the call-by-call write would find locked.
      from = { lamport: first.lamport - 1, hash: first.prevHash, receiptId: '' };
      const heads = new Map<string, Head>([[chainId, from]]);
      for (const record of records) {
        this.#precheck(record, heads);
        const r = record.receipt;
        heads.set(chainId, { lamport: r.lamport, hash: r.hash, receiptId: r.id });
        // `groupable`: commits and refunds only.
        for (const op of checkLedger(record.ledger ?? []) as readonly Extract<LedgerOp, { id: string }>[]) {
          if (spend.has(op.id)) throw new StoreError('STORE_DUPLICATE', `reservation ${op.id} settled twice`);
          spend.set(op.id, op.op === 'commit');
        }
      }
    } catch (error) {
      throw new GroupFailed(error);
    }
    const admissions = new Set(records.map((r) => r.admissionId as string));
    const receipts = records.map((r) => r.receipt);
    const last = receipts[receipts.length - 1] as GovernedCallRecord['receipt'];
    const decisions = records.flatMap((r) => (r.decision ? [r.decision] : []));
    const requests = records.flatMap((r) => (r.request ? [{ ...r.request, record: r }] : []));
    const nodes = records.flatMap((r) => (r.nodes ?? []).map((n) => ({ ...n, sessionId: r.sessionId })));
    let settled: Row[];
    try {
      if (admissions.size !== records.length)
        throw new StoreError('STORE_DUPLICATE', 'an admission closed twice');
      // Every write below is conditioned on `h` (an InitPlan, run before the first row is written):
      // the head row is locked first, as the call-by-call write locks it.
      const moved = `EXISTS (SELECT 1 FROM h)`;
      const res = await q(
        c,
        `WITH h AS (
           INSERT INTO ${this.#t('chain_heads')} AS t (chain_id, lamport, hash, receipt_id)
           SELECT $1, $27, $28, $29
           WHERE $30::bigint = 0 OR EXISTS (SELECT 1 FROM ${this.#t('chain_heads')} WHERE chain_id = $1)
           ON CONFLICT (chain_id) DO UPDATE SET lamport = $27, hash = $28, receipt_id = $29
             WHERE t.lamport = $30::bigint AND ($30::bigint = 0 OR t.hash = $31::text)
           RETURNING 1
         ), r AS (
           INSERT INTO ${this.#t('receipts')} (chain_id, lamport, receipt_id, prev_hash, hash, session_id, decision_id, risk_tier, envelope)
           SELECT $1, x.* FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x
           WHERE ${moved}
         ), d AS (
           INSERT INTO ${this.#t('decisions')} (decision_id, session_id, envelope)
           SELECT * FROM unnest($10::text[], $11::text[], $12::text[]) WHERE ${moved}
         ), rq AS (
           INSERT INTO ${this.#t('requests')} (request_id, receipt_id, chain_id, lamport, session_id, body)
           SELECT x.id, x.receipt, $1, x.lamport, x.session, x.body
           FROM unnest($13::text[], $14::text[], $15::bigint[], $16::text[], $17::text[]) AS x(id, receipt, lamport, session, body)
           WHERE ${moved}
         ), n AS (
           INSERT INTO ${this.#t('nodes')} (node_id, kind, lamport, parents, session_id, body)
           SELECT * FROM unnest($18::text[], $19::text[], $20::bigint[], $21::text[], $22::text[], $23::text[])
           WHERE ${moved}
         ), a AS (
           DELETE FROM ${this.#t('admissions')} WHERE admission_id = ANY($24::text[]) AND node_id = $25 AND ${moved}
           RETURNING 1
         ), s AS (
           DELETE FROM ${this.#t('ledger_reservations')} WHERE reservation_id = ANY($26::text[]) AND ${moved}
           RETURNING reservation_id, accounts, amount
         )
         SELECT (SELECT count(*) FROM h) AS moved, (SELECT count(*) FROM a) AS closed, s.reservation_id, s.accounts, s.amount
         FROM (SELECT 1) one LEFT JOIN s ON true`,
        [
          chainId,
          receipts.map((r) => r.lamport),
          receipts.map((r) => r.id),
          receipts.map((r) => r.prevHash),
          receipts.map((r) => r.hash),
          records.map((r) => r.sessionId),
          receipts.map((r) => r.decisionId ?? null),
          receipts.map((r) => r.riskTier ?? null),
          receipts.map((r) => JSON.stringify(r.envelope)),
          decisions.map((d) => d.id),
          records.flatMap((r) => (r.decision ? [r.sessionId] : [])),
          decisions.map((d) => JSON.stringify(d.envelope)),
          requests.map((q) => q.id),
          requests.map((q) => q.record.receipt.id),
          requests.map((q) => q.record.receipt.lamport),
          requests.map((q) => q.record.sessionId),
          requests.map((q) => JSON.stringify(q.body)),
          nodes.map((n) => n.id),
          nodes.map((n) => n.kind),
          nodes.map((n) => n.lamport),
          nodes.map((n) => JSON.stringify(n.parents)),
          nodes.map((n) => n.sessionId),
          nodes.map((n) => JSON.stringify(n.body)),
          [...admissions],
          this.nodeId,
          [...spend.keys()],
          last.lamport,
          last.hash,
          last.id,
          from.lamport,
          from.hash,
        ],
      );
      // The head is not where the group starts: call by call (which reports STORE_CHAIN_CONFLICT).
      if (num(res.rows[0]?.moved) !== 1)
        throw new StoreError('STORE_CHAIN_CONFLICT', 'the head is not where the group starts');
      if (num(res.rows[0]?.closed) !== admissions.size)
        throw new StoreError('STORE_INVALID_RECORD', 'an admission is not open');
      settled = res.rows.filter((row) => row.reservation_id != null);
      if (settled.length !== spend.size)
        throw new StoreError('STORE_RESERVATION_UNKNOWN', 'a reservation is not open');
    } catch (error) {
      if (!(error instanceof StoreError) && (connectionBroken(error) || retryable(error))) throw error;
      throw new GroupFailed(error);
    }
    const spent = new Map<string, number>();
    const released = new Map<string, number>();
    for (const row of settled) {
      const amount = num(row.amount);
      const commit = spend.get(str(row.reservation_id)) === true;
      for (const [account, k] of countOf(readJson<string[]>(row.accounts, 'a stored reservation'))) {
        released.set(account, (released.get(account) ?? 0) + k * amount);
        if (commit) spent.set(account, (spent.get(account) ?? 0) + k * amount);
      }
    }
    const accounts = [...released.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (accounts.length > 0) {
      try {
        // One statement, locks in account order: a row is updated only once `l` emitted it (the
        // semi-join needs it), and `l` locks in account order as it emits (its rows are sorted
        // before they are locked) — so no account is locked out of order, whatever the plan.
        const moved = await q(
          c,
          `WITH l AS MATERIALIZED (
             SELECT account FROM ${this.#t('ledger_accounts')} WHERE account = ANY($1::text[]) ORDER BY account FOR UPDATE
           )
           UPDATE ${this.#t('ledger_accounts')} a SET spent = a.spent + x.s, reserved = a.reserved - x.r
           FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x(account, s, r)
           WHERE a.account = x.account AND a.account IN (SELECT account FROM l)`,
          [accounts, accounts.map((a) => spent.get(a) ?? 0), accounts.map((a) => released.get(a) ?? 0)],
        );
        if (moved.rowCount !== accounts.length)
          throw new StoreError('STORE_RESERVATION_UNKNOWN', 'a charged account is missing');
      } catch (error) {
        if (!(error instanceof StoreError) && (connectionBroken(error) || retryable(error))) throw error;
        throw new GroupFailed(error);
      }
    }
    return receipts.map((r) => ({ receiptId: r.id, lamport: r.lamport }));
  }

  commitCall(record: GovernedCallRecord): Promise<CommitResult> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#committer) return this.#committer.submit(record);
    return this.#commitBatch([record]).then(([r]) => {
      if (r instanceof Error) throw r;
      return r as CommitResult;
    });
  }

  async commitCalls(records: readonly GovernedCallRecord[]): Promise<readonly (CommitResult | Error)[]> {
    this.#open();
    if (records.length === 0) return [];
    return this.#commitBatch(records);
  }

  // ── admission journal and leases ──────────────────────────────────────────────────────────

  async admitCall(admission: AdmissionRecord, ledger: readonly LedgerOp[] = []): Promise<void> {
    checkAdmission(admission);
    checkLedger(ledger);
    await this.#tx('admit call', (c) => this.#admitIn(c, admission, ledger));
  }

  /**
   * Admissions of calls in flight in ONE transaction, each its own savepoint: a failing admission
   * is rolled back alone and reported in its slot. Each item's ledger movements are taken once,
   * before the transaction (a retried transaction writes the same movements again, never a
   * second draw).
   */
  async admitCalls(items: readonly AdmissionBatchItem[]): Promise<readonly (true | Error)[]> {
    this.#open();
    const prepared = items.map(
      (item): { admission: AdmissionRecord; ledger: readonly LedgerOp[] } | Error => {
        try {
          const ledger = item.ledger?.() ?? [];
          checkAdmission(item.admission);
          checkLedger(ledger);
          return { admission: item.admission, ledger };
        } catch (error) {
          return error instanceof Error ? error : new StoreError('STORE_INVALID_RECORD', String(error));
        }
      },
    );
    if (prepared.every((p) => p instanceof Error)) return prepared as Error[];
    // Fast path: the whole batch in a handful of statements. Any failure of it rolls the
    // transaction back (GroupFailed) and the batch is written again admission by admission below
    // (same outcome, slower).
    let fast = batchable(prepared);
    for (;;) {
      try {
        return await this.#tx('admit calls', (c) =>
          fast ? this.#admitBatch(c, prepared) : this.#admitEach(c, prepared),
        );
      } catch (error) {
        if (!(error instanceof GroupFailed) || !fast) throw error;
        fast = false;
      }
    }
  }

  /** Admissions one by one, each its own savepoint (a failing one is rolled back alone). */
  async #admitEach(
    c: PoolClient,
    prepared: readonly ({ admission: AdmissionRecord; ledger: readonly LedgerOp[] } | Error)[],
  ): Promise<(true | Error)[]> {
    {
      const out: (true | Error)[] = [];
      for (const p of prepared) {
        if (p instanceof Error) {
          out.push(p);
          continue;
        }
        await c.query('SAVEPOINT admission');
        try {
          await this.#admitIn(c, p.admission, p.ledger);
          await c.query('RELEASE SAVEPOINT admission');
          out.push(true);
        } catch (error) {
          // A broken connection fails the whole transaction (retried by #tx); anything else is
          // this admission's own failure.
          if (!(error instanceof StoreError) && connectionBroken(error)) throw error;
          await c.query('ROLLBACK TO SAVEPOINT admission');
          await c.query('RELEASE SAVEPOINT admission');
          out.push(toStoreError(error, `admit call ${p.admission.id}`));
        }
      }
      return out;
    }
  }

  /**
   * A batch of admissions whose movements are reservations only, each holding (at most) the
   * reservation it makes, and no grant (`batchable`): written with two statements instead of a
   * savepoint and 4–6 statements per admission. The first locks every account row (account order,
   * as `#reserveIn` does) and reads which of the batch's admission and reservation ids exist; then,
   * in batch order, each admission is checked exactly as `#admitIn` checks it — ceilings against
   * what the earlier admissions of the batch reserved, then its reservation ids, then its admission
   * id, each against the database and the batch — and a failing admission contributes nothing (its
   * slot reports the error); the second moves the accounts and inserts the reservations and the
   * admissions. Any failure of a statement throws `GroupFailed` (the batch is written again one
   * admission at a time).
   */
  async #admitBatch(
    c: PoolClient,
    items: readonly ({ admission: AdmissionRecord; ledger: readonly LedgerOp[] } | Error)[],
  ): Promise<(true | Error)[]> {
    try {
      return await this.#admitBatchIn(c, items);
    } catch (error) {
      if (!(error instanceof StoreError) && (connectionBroken(error) || retryable(error))) throw error;
      throw new GroupFailed(error);
    }
  }

  async #admitBatchIn(
    c: PoolClient,
    items: readonly ({ admission: AdmissionRecord; ledger: readonly LedgerOp[] } | Error)[],
  ): Promise<(true | Error)[]> {
    type Reserve = Extract<LedgerOp, { op: 'reserve' }>;
    const live = items.filter(
      (p): p is { admission: AdmissionRecord; ledger: readonly LedgerOp[] } => !(p instanceof Error),
    );
    const reserves = (p: { ledger: readonly LedgerOp[] }) => p.ledger as readonly Reserve[];
    const accounts = [
      ...countOf(live.flatMap((p) => reserves(p).flatMap((o) => o.charges.map((ch) => ch.account)))).keys(),
    ];
    const first = await q(
      c,
      `WITH l AS (
         INSERT INTO ${this.#t('ledger_accounts')} AS a (account, spent, reserved)
         SELECT x, 0, 0 FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i
         ON CONFLICT (account) DO UPDATE SET spent = a.spent
         RETURNING account, spent, reserved
       )
       SELECT 'l' AS k, account AS id, spent, reserved FROM l
       UNION ALL
       SELECT 'a', admission_id, NULL, NULL FROM ${this.#t('admissions')} WHERE admission_id = ANY($2::text[])
       UNION ALL
       SELECT 'r', reservation_id, NULL, NULL FROM ${this.#t('ledger_reservations')} WHERE reservation_id = ANY($3::text[])`,
      [accounts, live.map((p) => p.admission.id), live.flatMap((p) => reserves(p).map((o) => o.id))],
    );
    const usedAdmissions = new Set<string>();
    const usedReservations = new Set<string>();
    const level = new Map<string, number>();
    for (const r of first.rows) {
      if (r.k === 'l') level.set(str(r.id), num(r.spent) + num(r.reserved));
      else (r.k === 'a' ? usedAdmissions : usedReservations).add(str(r.id));
    }
    const added = new Map<string, number>();
    const reservations: { id: string; accounts: string; amount: number }[] = [];
    const admissions: AdmissionRecord[] = [];
    let highest = -1;
    const out = items.map((p): true | Error => {
      if (p instanceof Error) return p;
      const delta = new Map<string, number>();
      const mine = new Set<string>();
      const at = (account: string) => (level.get(account) ?? 0) + (delta.get(account) ?? 0);
      for (const op of reserves(p)) {
        if (op.charges.some((ch) => at(ch.account) + op.amount > ch.ceiling))
          return new StoreError('STORE_BUDGET_EXCEEDED', `reservation ${op.id} would exceed a ceiling`);
        if (usedReservations.has(op.id) || mine.has(op.id))
          return new StoreError('STORE_DUPLICATE', `reservation ${op.id} exists`);
        mine.add(op.id);
        for (const [account, n] of countOf(op.charges.map((ch) => ch.account)))
          delta.set(account, (delta.get(account) ?? 0) + n * op.amount);
      }
      if (usedAdmissions.has(p.admission.id))
        return new StoreError('STORE_DUPLICATE', `admission ${p.admission.id} exists`);
      usedAdmissions.add(p.admission.id);
      for (const [account, d] of delta) {
        level.set(account, (level.get(account) ?? 0) + d);
        added.set(account, (added.get(account) ?? 0) + d);
      }
      for (const op of reserves(p)) {
        usedReservations.add(op.id);
        reservations.push({
          id: op.id,
          accounts: JSON.stringify(op.charges.map((ch) => ch.account)),
          amount: op.amount,
        });
        const m = RESERVATION_ID.exec(op.id);
        if (m) highest = Math.max(highest, Number(m[1]));
      }
      admissions.push(p.admission);
      return true;
    });
    if (highest >= 0) {
      // Keep generated ids clear of ids chosen by callers in the same format (as #reserveIn).
      await q(c, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        LOCK_NAMESPACE,
        `ledger-seq:${this.schema}`,
      ]);
      await q(
        c,
        `SELECT setval($1::regclass, GREATEST($2::bigint, s.last_value)) FROM ${this.#t('ledger_reservation_seq')} s`,
        [`${this.#s}.ledger_reservation_seq`, highest],
      );
    }
    if (admissions.length === 0) return out;
    const written = await q(
      c,
      `WITH u AS (
         UPDATE ${this.#t('ledger_accounts')} a SET reserved = a.reserved + x.n
         FROM unnest($1::text[], $2::bigint[]) AS x(account, n) WHERE a.account = x.account
         RETURNING 1
       ), r AS (
         INSERT INTO ${this.#t('ledger_reservations')} (reservation_id, accounts, amount, node_id, lease_until)
         SELECT r, a, m, $6, clock_timestamp() + $7 * interval '1 millisecond'
         FROM unnest($3::text[], $4::text[], $5::bigint[]) AS x(r, a, m)
         RETURNING 1
       ), ad AS (
         INSERT INTO ${this.#t('admissions')} (admission_id, chain_id, session_id, reservation_id, node_id, lease_until, body)
         SELECT a, ch, se, rv, $6, clock_timestamp() + $7 * interval '1 millisecond', b
         FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY AS x(a, ch, se, rv, b, i)
         ORDER BY i
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM u) AS u, (SELECT count(*) FROM r) AS r, (SELECT count(*) FROM ad) AS ad`,
      [
        [...added.keys()],
        [...added.values()],
        reservations.map((r) => r.id),
        reservations.map((r) => r.accounts),
        reservations.map((r) => r.amount),
        this.nodeId,
        this.#leaseMs,
        admissions.map((a) => a.id),
        admissions.map((a) => a.chainId ?? DEFAULT_CHAIN),
        admissions.map((a) => a.sessionId),
        admissions.map((a) => a.reservationId ?? null),
        admissions.map((a) => JSON.stringify(a.body)),
      ],
    );
    const w = written.rows[0];
    if (num(w?.u) !== added.size || num(w?.r) !== reservations.length || num(w?.ad) !== admissions.length)
      throw new StoreError('STORE_IO', 'the admission batch was not written whole');
    return out;
  }

  async #admitIn(c: PoolClient, admission: AdmissionRecord, ledger: readonly LedgerOp[]): Promise<void> {
    await this.#applyLedger(c, ledger);
    if (admission.reservationId) {
      // The reservation must be open and this node's; its lease moves with the admission, so a
      // taker cannot refund it as an orphan while the call runs.
      const held = await q(
        c,
        `UPDATE ${this.#t('ledger_reservations')} SET lease_until = clock_timestamp() + $3 * interval '1 millisecond'
           WHERE reservation_id = $1 AND node_id = $2 RETURNING 1`,
        [admission.reservationId, this.nodeId, this.#leaseMs],
      );
      if (held.rowCount !== 1) {
        throw new StoreError(
          'STORE_RESERVATION_UNKNOWN',
          `reservation ${admission.reservationId} is not open for node ${this.nodeId}`,
        );
      }
    }
    const claim = admission.idempotency;
    if (claim) {
      // The key's result, if one is stored, was written by the call that held the key's claim
      // (its receipt's transaction closed the claim and wrote the record): this call may run only
      // to supersede exactly that record (its window expired); otherwise it must replay it.
      const stored = (
        await q(c, `SELECT receipt_id FROM ${this.#t('idempotency')} WHERE idem_key = $1`, [claim.key])
      ).rows[0];
      if (stored && str(stored.receipt_id) !== claim.supersedes)
        throw new StoreError(
          'STORE_IDEMPOTENCY_CONFLICT',
          `idempotency key ${claim.key} already has a stored result (receipt ${str(stored.receipt_id)}): the call replays it, it does not run again`,
        );
    }
    // The claim is the admission row itself (unique idem_key among open admissions): a second
    // node's admission of the key waits for the first's transaction and then writes nothing.
    const inserted = await q(
      c,
      `INSERT INTO ${this.#t('admissions')} (admission_id, chain_id, session_id, reservation_id, node_id, lease_until, body, idem_key)
         VALUES ($1, $2, $3, $4, $5, clock_timestamp() + $6 * interval '1 millisecond', $7, $8)
         ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING RETURNING 1`,
      [
        admission.id,
        admission.chainId ?? DEFAULT_CHAIN,
        admission.sessionId,
        admission.reservationId ?? null,
        this.nodeId,
        this.#leaseMs,
        JSON.stringify(admission.body),
        claim?.key ?? null,
      ],
    );
    if (inserted.rowCount !== 1)
      throw new StoreError(
        'STORE_IDEMPOTENCY_CONFLICT',
        `idempotency key ${claim?.key} is claimed by an admission in flight (on this or another node): the call does not run twice`,
      );
    if (admission.grant !== undefined) {
      // One use cluster-wide: the primary key decides between racing admissions (the loser
      // waits for the winner's transaction, then sees the row and writes nothing).
      const used = await q(
        c,
        `INSERT INTO ${this.#t('governance_grants')} (challenge_id, decision_id, admission_id) VALUES ($1, $2, $3)
           ON CONFLICT (challenge_id) DO NOTHING RETURNING 1`,
        [admission.grant.challengeId, admission.grant.decisionId, admission.id],
      );
      if (used.rowCount !== 1) {
        throw new StoreError(
          'STORE_GRANT_CONSUMED',
          `approval grant ${admission.grant.challengeId} was already consumed`,
        );
      }
    }
  }

  #admission(row: Row): LeasedAdmission {
    return {
      id: str(row.admission_id),
      seq: num(row.seq),
      chainId: str(row.chain_id),
      sessionId: str(row.session_id),
      reservationId: row.reservation_id == null ? null : str(row.reservation_id),
      body: readJson<Json>(row.body, 'a stored admission'),
      nodeId: str(row.node_id),
      leaseUntil: num(row.lease_ms),
    };
  }

  /**
   * Open admissions only: a row whose decision already has a receipt (on any chain) is closed,
   * whatever the table says — a database writer can re-insert a finished call's admission row,
   * and recovering it would receipt one ALLOW twice (I-RECOVERY-1). Such rows are never handed
   * to a recovery; a take-over deletes them.
   */
  #unreceipted(alias: string): string {
    return `NOT EXISTS (SELECT 1 FROM ${this.#t('receipts')} rc WHERE rc.decision_id = ${alias}.admission_id)`;
  }

  async leasedAdmissions(chainId?: string): Promise<readonly LeasedAdmission[]> {
    const cols = `a.*, (extract(epoch FROM a.lease_until) * 1000)::float8 AS lease_ms`;
    const from = `${this.#t('admissions')} a`;
    const rows =
      chainId === undefined
        ? await this.#read(
            'read admissions',
            `SELECT ${cols} FROM ${from} WHERE ${this.#unreceipted('a')} ORDER BY a.seq`,
          )
        : await this.#read(
            'read admissions',
            `SELECT ${cols} FROM ${from} WHERE a.chain_id = $1 AND ${this.#unreceipted('a')} ORDER BY a.seq`,
            [chainId],
          );
    return rows.map((r) => this.#admission(r));
  }

  /** Whether an open admission (on any node) claims the idempotency key (AdmissionRecord.idempotency). */
  async idempotencyClaimed(key: string): Promise<boolean> {
    const rows = await this.#read(
      'read an idempotency claim',
      `SELECT 1 FROM ${this.#t('admissions')} a WHERE a.idem_key = $1 AND ${this.#unreceipted('a')}`,
      [key],
    );
    return rows.length > 0;
  }

  /**
   * One cheap read a node makes before each decision: how many documents a namespace holds, a
   * digest of them (the trust registry's events: a published rotation appends; a database writer
   * could also rewrite them in place, keeping their number) and the database's clock, so a node
   * notices a registry other than the one it decides under, and a clock that drifted from the
   * database's, before it decides; and the governance log's head (`governance`), so a node reads
   * the log's new events only when it grew. `head` is SHA-256 (hex) over every document of the namespace in
   * key order, each as `<length>:<key><length>:<stored text>` — comparable only with another
   * `freshness` reading, never recomputed by the caller. Calls made while a reading is in flight
   * share the next one (`CoalescedRead`): each answer is read entirely after its call was made.
   */
  freshness(namespace: string): Promise<{
    readonly documents: number;
    readonly head: string;
    readonly governance: { readonly seq: number; readonly chain: string } | undefined;
    readonly databaseNowMs: number;
  }> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#freshness.read(namespace);
  }

  /** Per-call freshness reads of calls in flight share one statement (never one already running). */
  readonly #freshness = new CoalescedRead<Freshness>((namespace) => this.#readFreshness(namespace));

  async #readFreshness(namespace: string): Promise<Freshness> {
    const rows = await this.#read(
      'read the registry head and the database clock',
      `SELECT count(*) AS n,
         (SELECT seq FROM ${this.#t('governance_events')} ORDER BY seq DESC LIMIT 1) AS gov_seq,
         (SELECT chain FROM ${this.#t('governance_events')} ORDER BY seq DESC LIMIT 1) AS gov_chain,
         encode(sha256(convert_to(coalesce(string_agg(
           length(doc_key) || ':' || doc_key || length(value) || ':' || value, '' ORDER BY doc_key), ''),
           'UTF8')), 'hex') AS head,
         (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms
       FROM ${this.#t('documents')} WHERE namespace = $1`,
      [namespace],
    );
    const r = rows[0];
    return {
      documents: num(r?.n),
      head: String(r?.head ?? ''),
      governance:
        r?.gov_seq === null || r?.gov_seq === undefined
          ? undefined
          : { seq: num(r.gov_seq), chain: String(r.gov_chain) },
      databaseNowMs: num(r?.now_ms),
    };
  }

  /**
   * The database's clock now (ms since the epoch): leases are measured on it, and a node compares
   * its own clock with it (clock skew) and checks a lease against it before it recovers anything.
   */
  async databaseNow(): Promise<number> {
    const rows = await this.#read(
      'read the database clock',
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms`,
    );
    return num(rows[0]?.now_ms);
  }

  async admissions(chainId?: string): Promise<readonly StoredAdmission[]> {
    return (await this.leasedAdmissions(chainId)).map(({ nodeId: _n, leaseUntil: _l, ...a }) => a);
  }

  async renewLeases(leaseMs: number = this.#leaseMs): Promise<number> {
    checkAmount(leaseMs);
    return this.#tx('renew leases', async (c) => {
      const res = await q(
        c,
        `WITH a AS (
           UPDATE ${this.#t('admissions')} SET lease_until = clock_timestamp() + $2 * interval '1 millisecond'
           WHERE node_id = $1 RETURNING 1
         ), r AS (
           UPDATE ${this.#t('ledger_reservations')} SET lease_until = clock_timestamp() + $2 * interval '1 millisecond'
           WHERE node_id = $1
         ) SELECT count(*) AS n FROM a`,
        [this.nodeId, leaseMs],
      );
      return num(res.rows[0]?.n);
    });
  }

  async takeOverExpired(leaseMs: number = this.#leaseMs): Promise<readonly LeasedAdmission[]> {
    checkAmount(leaseMs);
    return this.#tx('take over expired admissions', async (c) => {
      // Row locks decide races: a renewal or a second taker that locked a row first is seen
      // (the condition is re-checked on the latest row version), so a live lease is never taken
      // and no admission is taken twice.
      const taken = await q(
        c,
        `WITH t AS (
           UPDATE ${this.#t('admissions')} SET node_id = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond'
           WHERE lease_until < clock_timestamp() AND node_id <> $1 AND ${this.#unreceipted(this.#t('admissions'))}
           RETURNING *
         ), r AS (
           UPDATE ${this.#t('ledger_reservations')} SET node_id = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond'
           WHERE reservation_id IN (SELECT reservation_id FROM t WHERE reservation_id IS NOT NULL)
         ) SELECT *, (extract(epoch FROM lease_until) * 1000)::float8 AS lease_ms FROM t ORDER BY seq`,
        [this.nodeId, leaseMs],
      );
      // Expired rows whose decision already has a receipt are closed admissions (a re-inserted
      // row): dropped, never recovered (#unreceipted).
      await q(
        c,
        `DELETE FROM ${this.#t('admissions')} a WHERE a.lease_until < clock_timestamp() AND NOT ${this.#unreceipted('a')}`,
      );
      const orphans = await q(
        c,
        `SELECT reservation_id FROM ${this.#t('ledger_reservations')} r
         WHERE r.lease_until < clock_timestamp() AND r.node_id <> $1
           AND NOT EXISTS (SELECT 1 FROM ${this.#t('admissions')} a WHERE a.reservation_id = r.reservation_id)
         ORDER BY reservation_id`,
        [this.nodeId],
      );
      for (const o of orphans.rows)
        await this.#settleIn(c, str(o.reservation_id), false, { expiredOnly: true });
      return taken.rows.map((r) => this.#admission(r));
    });
  }

  // ── budget ledger ─────────────────────────────────────────────────────────────────────────

  async #reserveIn(
    c: PoolClient,
    id: string | undefined,
    charges: readonly LedgerCharge[],
    amount: number,
  ): Promise<string | null> {
    const counts = countOf(charges.map((ch) => ch.account));
    const accounts = [...counts.keys()];
    // Lock every account row in account order (created at zero if new), then check and move.
    const locked = await q(
      c,
      `INSERT INTO ${this.#t('ledger_accounts')} AS a (account, spent, reserved)
       SELECT x, 0, 0 FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i
       ON CONFLICT (account) DO UPDATE SET spent = a.spent
       RETURNING account, spent, reserved`,
      [accounts],
    );
    const state = new Map(locked.rows.map((r) => [str(r.account), num(r.spent) + num(r.reserved)]));
    for (const ch of charges) {
      if ((state.get(ch.account) ?? 0) + amount > ch.ceiling) return null;
    }
    if (id !== undefined) {
      const m = RESERVATION_ID.exec(id);
      if (m) {
        // Keep generated ids clear of ids chosen by callers in the same format.
        await q(c, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [
          LOCK_NAMESPACE,
          `ledger-seq:${this.schema}`,
        ]);
        await q(
          c,
          `SELECT setval($1::regclass, GREATEST($2::bigint, s.last_value)) FROM ${this.#t('ledger_reservation_seq')} s`,
          [`${this.#s}.ledger_reservation_seq`, Number(m[1])],
        );
      }
    }
    try {
      const res = await q(
        c,
        `WITH u AS (
           UPDATE ${this.#t('ledger_accounts')} a SET reserved = a.reserved + x.n * $3::bigint
           FROM unnest($1::text[], $2::bigint[]) AS x(account, n) WHERE a.account = x.account
         )
         INSERT INTO ${this.#t('ledger_reservations')} (reservation_id, accounts, amount, node_id, lease_until)
         VALUES (COALESCE($4::text, 'budget-res-' || nextval($5::regclass)), $6, $3, $7, clock_timestamp() + $8 * interval '1 millisecond')
         RETURNING reservation_id`,
        [
          accounts,
          accounts.map((a) => counts.get(a)),
          amount,
          id ?? null,
          `${this.#s}.ledger_reservation_seq`,
          JSON.stringify(charges.map((ch) => ch.account)),
          this.nodeId,
          this.#leaseMs,
        ],
      );
      return str(res.rows[0]?.reservation_id);
    } catch (error) {
      const e = toStoreError(error, 'reserve budget');
      if (e.code === 'STORE_DUPLICATE')
        throw new StoreError('STORE_DUPLICATE', `reservation ${id} exists`, { cause: error });
      throw e;
    }
  }

  async #settleIn(
    c: PoolClient,
    id: string,
    spend: boolean,
    opts: { expiredOnly?: boolean } = {},
  ): Promise<void> {
    const del = await q(
      c,
      opts.expiredOnly
        ? `DELETE FROM ${this.#t('ledger_reservations')} WHERE reservation_id = $1 AND lease_until < clock_timestamp() RETURNING accounts, amount`
        : `DELETE FROM ${this.#t('ledger_reservations')} WHERE reservation_id = $1 RETURNING accounts, amount`,
      [id],
    );
    const row = del.rows[0];
    if (!row) {
      if (opts.expiredOnly) return; // renewed or settled meanwhile
      throw new StoreError('STORE_RESERVATION_UNKNOWN', `no open reservation ${id}`);
    }
    const amount = num(row.amount);
    const counts = countOf(readJson<string[]>(row.accounts, 'a stored reservation'));
    const accounts = [...counts.keys()];
    await q(
      c,
      `SELECT 1 FROM ${this.#t('ledger_accounts')} WHERE account = ANY($1::text[]) ORDER BY account FOR UPDATE`,
      [accounts],
    );
    await q(
      c,
      `UPDATE ${this.#t('ledger_accounts')} a
       SET spent = a.spent + CASE WHEN $3 THEN x.n * $4::bigint ELSE 0 END, reserved = a.reserved - x.n * $4::bigint
       FROM unnest($1::text[], $2::bigint[]) AS x(account, n) WHERE a.account = x.account`,
      [accounts, accounts.map((a) => counts.get(a)), spend, amount],
    );
  }

  async #applyLedger(c: PoolClient, ops: readonly LedgerOp[]): Promise<void> {
    for (const op of checkLedger(ops)) {
      if (op.op === 'reset') {
        // `spent` back to 0; what open reservations hold stays reserved (row lock: serialized
        // with every reservation and settlement of the account).
        await q(c, `UPDATE ${this.#t('ledger_accounts')} SET spent = 0 WHERE account = $1 AND spent <> 0`, [
          op.account,
        ]);
      } else if (op.op === 'reserve') {
        const id = await this.#reserveIn(c, op.id, op.charges, op.amount);
        if (id === null)
          throw new StoreError('STORE_BUDGET_EXCEEDED', `reservation ${op.id} would exceed a ceiling`);
      } else {
        await this.#settleIn(c, op.id, op.op === 'commit');
      }
    }
  }

  async ledgerReserve(charges: readonly LedgerCharge[], amount: number): Promise<string | null> {
    checkAmount(amount);
    checkLedger([{ op: 'reserve', id: '', charges, amount }]);
    return this.#tx('reserve budget', (c) => this.#reserveIn(c, undefined, charges, amount));
  }

  async ledgerCommit(id: string): Promise<void> {
    await this.#tx('commit reservation', (c) => this.#settleIn(c, id, true));
  }

  async ledgerRefund(id: string): Promise<void> {
    await this.#tx('refund reservation', (c) => this.#settleIn(c, id, false));
  }

  async ledgerState(account: string): Promise<LedgerAccountState> {
    const rows = await this.#read(
      'read ledger account',
      `SELECT spent, reserved FROM ${this.#t('ledger_accounts')} WHERE account = $1`,
      [account],
    );
    const r = rows[0];
    return r ? { spent: num(r.spent), reserved: num(r.reserved) } : { spent: 0, reserved: 0 };
  }

  async ledgerReservation(id: string): Promise<LedgerReservation | undefined> {
    const rows = await this.#read(
      'read reservation',
      `SELECT accounts, amount FROM ${this.#t('ledger_reservations')} WHERE reservation_id = $1`,
      [id],
    );
    const r = rows[0];
    return r
      ? { accounts: readJson<string[]>(r.accounts, 'a stored reservation'), amount: num(r.amount) }
      : undefined;
  }

  async ledgerSnapshot(accounts: readonly string[]): Promise<LedgerSnapshot> {
    // One statement, so one snapshot (READ COMMITTED): an own reservation is either in the
    // accounts' `reserved` and listed, or in neither — never half (port.ts LedgerSnapshot).
    const rows = await this.#read(
      'read ledger snapshot',
      `SELECT 'a' AS kind, account AS id, spent, reserved, NULL::text AS accounts, NULL::bigint AS amount
         FROM ${this.#t('ledger_accounts')} WHERE account = ANY($1::text[])
       UNION ALL
       SELECT 'r', reservation_id, NULL, NULL, accounts, amount
         FROM ${this.#t('ledger_reservations')} WHERE node_id = $2`,
      [[...new Set(accounts)], this.nodeId],
    );
    const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return {
      accounts: rows
        .filter((r) => r.kind === 'a')
        .map((r) => ({ account: str(r.id), spent: num(r.spent), reserved: num(r.reserved) }))
        .sort((a, b) => byId({ id: a.account }, { id: b.account })),
      reservations: rows
        .filter((r) => r.kind === 'r')
        .map((r) => ({
          id: str(r.id),
          accounts: readJson<string[]>(r.accounts, 'a stored reservation'),
          amount: num(r.amount),
        }))
        .sort(byId),
    };
  }

  async releaseOrphanReservations(): Promise<readonly string[]> {
    return this.#tx('release orphan reservations', async (c) => {
      const rows = await q(
        c,
        `SELECT reservation_id FROM ${this.#t('ledger_reservations')} r WHERE r.node_id = $1
           AND NOT EXISTS (SELECT 1 FROM ${this.#t('admissions')} a WHERE a.reservation_id = r.reservation_id)
         ORDER BY reservation_id FOR UPDATE`,
        [this.nodeId],
      );
      const ids = rows.rows.map((r) => str(r.reservation_id));
      for (const id of ids) await this.#settleIn(c, id, false);
      return ids;
    });
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────────────

  async chainHead(chainId: string = DEFAULT_CHAIN): Promise<ChainHead | undefined> {
    const rows = await this.#read(
      'read chain head',
      `SELECT lamport, hash, receipt_id FROM ${this.#t('chain_heads')} WHERE chain_id = $1 AND lamport > 0`,
      [chainId],
    );
    const r = rows[0];
    return r
      ? { chainId, lamport: num(r.lamport), hash: str(r.hash), receiptId: str(r.receipt_id) }
      : undefined;
  }

  #range(query: RangeQuery): { where: string; params: (string | number)[] } {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    const add = (clause: string, v: string | number) => {
      params.push(v);
      clauses.push(`${clause} $${params.length}`);
    };
    if (query.chainId !== undefined) add('chain_id =', query.chainId);
    if (query.sessionId !== undefined) add('session_id =', query.sessionId);
    if (query.fromLamport !== undefined) add('lamport >=', query.fromLamport);
    if (query.toLamport !== undefined) add('lamport <=', query.toLamport);
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async receipts(query: RangeQuery = {}): Promise<readonly StoredReceipt[]> {
    const { where, params } = this.#range(query);
    const rows = await this.#read(
      'read receipts',
      `SELECT * FROM ${this.#t('receipts')} ${where} ORDER BY chain_id, lamport`,
      params,
    );
    return rows.map(receiptOfRow);
  }

  async receiptById(receiptId: string): Promise<ReceiptLookup | undefined> {
    // One statement on the two unique indexes (receipts_receipt_id, the requests primary key), so
    // the receipt and its request are read at one snapshot; they are committed together.
    const rows = await this.#read(
      'read a receipt by id',
      `SELECT r.*, q.request_id AS q_request_id, q.receipt_id AS q_receipt_id, q.chain_id AS q_chain_id,
              q.lamport AS q_lamport, q.session_id AS q_session_id, q.body AS q_body
         FROM ${this.#t('receipts')} r
         LEFT JOIN ${this.#t('requests')} q ON q.request_id = r.receipt_id AND q.receipt_id = r.receipt_id
        WHERE r.receipt_id = $1`,
      [receiptId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const receipt = receiptOfRow(row);
    if (row.q_request_id == null) return { receipt };
    return {
      receipt,
      request: {
        id: str(row.q_request_id),
        receiptId: str(row.q_receipt_id),
        chainId: str(row.q_chain_id),
        lamport: num(row.q_lamport),
        sessionId: str(row.q_session_id),
        body: readJson<Json>(row.q_body, 'a stored request'),
      },
    };
  }

  async decisions(ids: readonly string[]): Promise<readonly StoredDecision[]> {
    const rows = await this.#read(
      'read decisions',
      `SELECT * FROM ${this.#t('decisions')} WHERE decision_id = ANY($1::text[]) ORDER BY decision_id`,
      [[...new Set(ids)]],
    );
    return rows.map((row) => ({
      id: str(row.decision_id),
      sessionId: str(row.session_id),
      envelope: readJson(row.envelope, 'a stored decision'),
    }));
  }

  async nodes(query: { readonly sessionId?: string } = {}): Promise<readonly StoredNode[]> {
    const rows =
      query.sessionId === undefined
        ? await this.#read('read nodes', `SELECT * FROM ${this.#t('nodes')} ORDER BY lamport, node_id`)
        : await this.#read(
            'read nodes',
            `SELECT * FROM ${this.#t('nodes')} WHERE session_id = $1 ORDER BY lamport, node_id`,
            [query.sessionId],
          );
    return rows.map((row) => ({
      id: str(row.node_id),
      kind: str(row.kind),
      lamport: num(row.lamport),
      parents: readJson<string[]>(row.parents, 'a stored node'),
      sessionId: str(row.session_id),
      body: readJson<Json>(row.body, 'a stored node'),
    }));
  }

  async requests(query: RangeQuery = {}): Promise<readonly StoredRequest[]> {
    const { where, params } = this.#range(query);
    const rows = await this.#read(
      'read requests',
      `SELECT * FROM ${this.#t('requests')} ${where} ORDER BY chain_id, lamport, request_id`,
      params,
    );
    return rows.map((row) => ({
      id: str(row.request_id),
      receiptId: str(row.receipt_id),
      chainId: str(row.chain_id),
      lamport: num(row.lamport),
      sessionId: str(row.session_id),
      body: readJson<Json>(row.body, 'a stored request'),
    }));
  }

  async sessions(): Promise<readonly string[]> {
    const rows = await this.#read(
      'read sessions',
      `SELECT DISTINCT session_id FROM ${this.#t('receipts')} ORDER BY session_id`,
    );
    return rows.map((r) => str(r.session_id));
  }

  async idempotency(key: string): Promise<Json | undefined> {
    const rows = await this.#read(
      'read idempotency record',
      `SELECT value FROM ${this.#t('idempotency')} WHERE idem_key = $1`,
      [key],
    );
    return rows[0] ? readJson<Json>(rows[0].value, 'a stored idempotency record') : undefined;
  }

  async putIdempotency(key: string, receiptId: string, value: Json): Promise<boolean> {
    const rows = await this.#write(
      'record idempotency',
      `INSERT INTO ${this.#t('idempotency')} (idem_key, receipt_id, value) VALUES ($1, $2, $3) ON CONFLICT (idem_key) DO NOTHING RETURNING 1`,
      [key, receiptId, JSON.stringify(value)],
    );
    return rows.length === 1;
  }

  async budgetBalance(key: string): Promise<number> {
    const rows = await this.#read(
      'read budget',
      `SELECT balance FROM ${this.#t('budgets')} WHERE budget_key = $1`,
      [key],
    );
    return rows[0] ? num(rows[0].balance) : 0;
  }

  async nonceUsed(scope: string, nonce: string): Promise<boolean> {
    const rows = await this.#read(
      'read nonce',
      `SELECT 1 FROM ${this.#t('nonces')} WHERE scope = $1 AND nonce = $2`,
      [scope, nonce],
    );
    return rows.length === 1;
  }

  async consumeNonce(scope: string, nonce: string): Promise<boolean> {
    const rows = await this.#write(
      'consume nonce',
      `INSERT INTO ${this.#t('nonces')} (scope, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [scope, nonce],
    );
    return rows.length === 1;
  }

  // ── artifacts and documents ───────────────────────────────────────────────────────────────

  async putArtifact(artifact: Omit<Artifact, 'digest'>): Promise<string> {
    const d = digest(artifact.bytes);
    await this.#write(
      'store artifact',
      `INSERT INTO ${this.#t('artifacts')} (digest, kind, name, version, bytes) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING`,
      [d, artifact.kind, artifact.name, artifact.version, Buffer.from(artifact.bytes)],
    );
    return d;
  }

  #artifactRow(row: Row): Artifact {
    return {
      digest: str(row.digest),
      kind: str(row.kind),
      name: str(row.name),
      version: str(row.version),
      bytes: new Uint8Array(row.bytes as Uint8Array),
    };
  }

  async artifact(d: string): Promise<Artifact | undefined> {
    const rows = await this.#read(
      'read artifact',
      `SELECT * FROM ${this.#t('artifacts')} WHERE digest = $1`,
      [d],
    );
    return rows[0] ? this.#artifactRow(rows[0]) : undefined;
  }

  async artifacts(query: { readonly kind?: string } = {}): Promise<readonly Artifact[]> {
    const rows =
      query.kind === undefined
        ? await this.#read(
            'read artifacts',
            `SELECT * FROM ${this.#t('artifacts')} ORDER BY kind, name, version, digest`,
          )
        : await this.#read(
            'read artifacts',
            `SELECT * FROM ${this.#t('artifacts')} WHERE kind = $1 ORDER BY name, version, digest`,
            [query.kind],
          );
    return rows.map((r) => this.#artifactRow(r));
  }

  async linkArtifact(sessionId: string, d: string): Promise<void> {
    try {
      await this.#write(
        'link artifact',
        `INSERT INTO ${this.#t('session_artifacts')} (session_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [sessionId, d],
      );
    } catch (error) {
      if (error instanceof StoreError && error.code === 'STORE_INVALID_RECORD') {
        throw new StoreError('STORE_INVALID_RECORD', `unknown artifact ${d}`, { cause: error });
      }
      throw error;
    }
  }

  async sessionArtifacts(sessionId: string): Promise<readonly Artifact[]> {
    const rows = await this.#read(
      'read session artifacts',
      `SELECT a.* FROM ${this.#t('artifacts')} a JOIN ${this.#t('session_artifacts')} s ON s.digest = a.digest
       WHERE s.session_id = $1 ORDER BY a.kind, a.name, a.version, a.digest`,
      [sessionId],
    );
    return rows.map((r) => this.#artifactRow(r));
  }

  async getDocument(namespace: string, key: string): Promise<Json | undefined> {
    const rows = await this.#read(
      'read document',
      `SELECT value FROM ${this.#t('documents')} WHERE namespace = $1 AND doc_key = $2`,
      [namespace, key],
    );
    return rows[0] ? readJson<Json>(rows[0].value, 'a stored document') : undefined;
  }

  async putDocument(namespace: string, key: string, value: Json): Promise<void> {
    await this.#write(
      'write document',
      `INSERT INTO ${this.#t('documents')} (namespace, doc_key, value) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, doc_key) DO UPDATE SET value = EXCLUDED.value`,
      [namespace, key, JSON.stringify(value)],
    );
  }

  async insertDocument(namespace: string, key: string, value: Json): Promise<boolean> {
    const rows = await this.#write(
      'insert document',
      `INSERT INTO ${this.#t('documents')} (namespace, doc_key, value) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, doc_key) DO NOTHING RETURNING 1`,
      [namespace, key, JSON.stringify(value)],
    );
    return rows.length === 1;
  }

  async listDocuments(namespace: string): Promise<readonly { readonly key: string; readonly value: Json }[]> {
    const rows = await this.#read(
      'list documents',
      `SELECT doc_key, value FROM ${this.#t('documents')} WHERE namespace = $1 ORDER BY doc_key`,
      [namespace],
    );
    return rows.map((r) => ({ key: str(r.doc_key), value: readJson<Json>(r.value, 'a stored document') }));
  }

  // ── governance: signed event log, application records, challenges, consumed grants ────────

  #eventRow(row: Row): GovernanceEventRow {
    return {
      seq: num(row.seq),
      digest: str(row.digest),
      prev: str(row.prev),
      chain: str(row.chain),
      action: str(row.action),
      signer: str(row.signer),
      subject: row.subject == null ? null : str(row.subject),
      trustSeq: num(row.trust_seq),
      envelope: readJson<SignedEnvelope>(row.envelope, 'a stored governance event'),
    };
  }

  async governanceHead(): Promise<{ seq: number; chain: string } | undefined> {
    const rows = await this.#read(
      'read governance head',
      `SELECT seq, chain FROM ${this.#t('governance_events')} ORDER BY seq DESC LIMIT 1`,
    );
    const r = rows[0];
    return r ? { seq: num(r.seq), chain: str(r.chain) } : undefined;
  }

  /**
   * Append one governance event. Appenders on every node are serialized by a transaction-level
   * advisory lock (bounded by the lock timeout), so `make` sees the true head; the row must extend
   * it, else STORE_GOVERNANCE_CONFLICT. An error thrown by `make` rejects the append unchanged
   * (nothing written, not retried); `make` runs again only if the transaction is retried after its
   * connection broke before COMMIT (nothing of the first attempt was kept).
   */
  async appendGovernanceEvent(
    make: (head: { readonly seq: number; readonly chain: string } | undefined) => GovernanceEventRow,
  ): Promise<GovernanceEventRow> {
    return this.#tx('append governance event', async (c) => {
      await q(c, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        LOCK_NAMESPACE,
        `governance:${this.schema}`,
      ]);
      const h = (
        await q(c, `SELECT seq, chain FROM ${this.#t('governance_events')} ORDER BY seq DESC LIMIT 1`)
      ).rows[0];
      const head = h ? { seq: num(h.seq), chain: str(h.chain) } : undefined;
      let row: GovernanceEventRow;
      try {
        row = make(head);
      } catch (error) {
        throw new CallerFailed(error);
      }
      if (
        !Number.isSafeInteger(row?.seq) ||
        row.seq !== (head?.seq ?? 0) + 1 ||
        (head !== undefined && row.prev !== head.chain) ||
        typeof row.envelope?.payload !== 'string' ||
        !Number.isSafeInteger(row.trustSeq)
      ) {
        throw new StoreError('STORE_GOVERNANCE_CONFLICT', 'governance event does not extend the log head');
      }
      const ins = await q(
        c,
        `INSERT INTO ${this.#t('governance_events')} (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (digest) DO NOTHING RETURNING 1`,
        [
          row.seq,
          row.digest,
          row.prev,
          row.chain,
          row.action,
          row.signer,
          row.subject,
          row.trustSeq,
          JSON.stringify(row.envelope),
        ],
      );
      if (ins.rowCount !== 1) {
        throw new StoreError('STORE_DUPLICATE', `governance event ${row.digest} is in the log already`);
      }
      return row;
    });
  }

  async governanceEvents(fromSeq = 1): Promise<readonly GovernanceEventRow[]> {
    const rows = await this.#read(
      'read governance events',
      `SELECT * FROM ${this.#t('governance_events')} WHERE seq >= $1 ORDER BY seq`,
      [fromSeq],
    );
    return rows.map((r) => this.#eventRow(r));
  }

  async governanceEventsAbout(subject: string): Promise<readonly GovernanceEventRow[]> {
    const rows = await this.#read(
      'read governance events',
      `SELECT * FROM ${this.#t('governance_events')} WHERE subject = $1 ORDER BY seq`,
      [subject],
    );
    return rows.map((r) => this.#eventRow(r));
  }

  async governanceEventSeq(eventDigest: string): Promise<number | undefined> {
    const rows = await this.#read(
      'read governance event',
      `SELECT seq FROM ${this.#t('governance_events')} WHERE digest = $1`,
      [eventDigest],
    );
    return rows[0] ? num(rows[0].seq) : undefined;
  }

  async governanceEvent(seq: number): Promise<GovernanceEventRow | undefined> {
    const rows = await this.#read(
      'read governance event',
      `SELECT * FROM ${this.#t('governance_events')} WHERE seq = $1`,
      [seq],
    );
    return rows[0] ? this.#eventRow(rows[0]) : undefined;
  }

  /** Record one application; of two nodes applying the same event, the second gets STORE_DUPLICATE. */
  async #applyGovernanceIn(c: PoolClient, a: GovernanceApplication): Promise<void> {
    const ins = await q(
      c,
      `INSERT INTO ${this.#t('governance_applied')} (seq, digest, chain, record) VALUES ($1, $2, $3, $4)
       ON CONFLICT (seq) DO NOTHING RETURNING 1`,
      [a.seq, a.digest, a.chain, JSON.stringify(a.record)],
    );
    if (ins.rowCount !== 1) {
      throw new StoreError('STORE_DUPLICATE', `governance event ${a.seq} was applied already`);
    }
    await q(
      c,
      `INSERT INTO ${this.#t('governance_cursor')} (id, envelope) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET envelope = EXCLUDED.envelope`,
      [JSON.stringify(a.cursor)],
    );
    await this.#applyLedger(c, a.ledger ?? []);
  }

  async applyGovernanceEvent(application: GovernanceApplication): Promise<void> {
    checkGovernanceApplication(application);
    await this.#tx('apply governance event', (c) => this.#applyGovernanceIn(c, application));
  }

  /**
   * One REPEATABLE READ, READ ONLY transaction: every statement reads the snapshot of its first,
   * so an application another node commits meanwhile (record and cursor in one transaction) is
   * in the view entirely or not at all.
   */
  async governanceView(chainId?: string): Promise<GovernanceView> {
    this.#open();
    if (chainId !== undefined) checkText(chainId, 'chainId');
    return this.#tx(
      'read the governance view',
      async (c) => {
        const rows = async (text: string, values: readonly unknown[] = []) => (await q(c, text, values)).rows;
        const events = await rows(`SELECT * FROM ${this.#t('governance_events')} ORDER BY seq`);
        const applied = await rows(`SELECT * FROM ${this.#t('governance_applied')} ORDER BY seq`);
        const cursor = await rows(`SELECT envelope FROM ${this.#t('governance_cursor')} WHERE id = 1`);
        const challenges =
          chainId === undefined
            ? await rows(
                `SELECT * FROM ${this.#t('governance_challenges')} ORDER BY created_at_ms, challenge_id`,
              )
            : await rows(
                `SELECT * FROM ${this.#t('governance_challenges')} WHERE chain_id = $1 ORDER BY created_at_ms, challenge_id`,
                [chainId],
              );
        const grants = await rows(`SELECT * FROM ${this.#t('governance_grants')} ORDER BY challenge_id`);
        return {
          events: events.map((r) => this.#eventRow(r)),
          applied: applied.map((r) => this.#appliedRow(r)),
          cursor: cursor[0]
            ? readJson<SignedEnvelope>(cursor[0].envelope, 'the stored governance cursor')
            : undefined,
          challenges: challenges.map((r) => this.#challengeRow(r)),
          grants: grants.map((r) => this.#grantRow(r)),
        };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    );
  }

  #appliedRow(r: Row): StoredGovernanceApplication {
    return {
      seq: num(r.seq),
      digest: str(r.digest),
      chain: str(r.chain),
      record: readJson<Json>(r.record, 'a stored governance application'),
    };
  }

  async governanceApplied(fromSeq = 1): Promise<readonly StoredGovernanceApplication[]> {
    const rows = await this.#read(
      'read governance applications',
      `SELECT * FROM ${this.#t('governance_applied')} WHERE seq >= $1 ORDER BY seq`,
      [fromSeq],
    );
    return rows.map((r) => this.#appliedRow(r));
  }

  async governanceCursor(): Promise<SignedEnvelope | undefined> {
    const rows = await this.#read(
      'read governance cursor',
      `SELECT envelope FROM ${this.#t('governance_cursor')} WHERE id = 1`,
    );
    return rows[0] ? readJson<SignedEnvelope>(rows[0].envelope, 'the stored governance cursor') : undefined;
  }

  #challengeRow(row: Row): StoredGovernanceChallenge {
    return {
      id: str(row.challenge_id),
      chainId: str(row.chain_id),
      createdAtMs: num(row.created_at_ms),
      expiresAtMs: num(row.expires_at_ms),
      receiptId: row.receipt_id == null ? null : str(row.receipt_id),
      closed: row.closed == null ? null : str(row.closed),
      envelope: readJson<SignedEnvelope>(row.envelope, 'a stored challenge'),
      request: readJson<Json>(row.request, 'a stored challenge request'),
    };
  }

  async governanceChallenges(chainId?: string): Promise<readonly StoredGovernanceChallenge[]> {
    const rows =
      chainId === undefined
        ? await this.#read(
            'read challenges',
            `SELECT * FROM ${this.#t('governance_challenges')} ORDER BY created_at_ms, challenge_id`,
          )
        : await this.#read(
            'read challenges',
            `SELECT * FROM ${this.#t('governance_challenges')} WHERE chain_id = $1 ORDER BY created_at_ms, challenge_id`,
            [chainId],
          );
    return rows.map((r) => this.#challengeRow(r));
  }

  async governanceChallenge(id: string): Promise<StoredGovernanceChallenge | undefined> {
    const rows = await this.#read(
      'read challenge',
      `SELECT * FROM ${this.#t('governance_challenges')} WHERE challenge_id = $1`,
      [id],
    );
    return rows[0] ? this.#challengeRow(rows[0]) : undefined;
  }

  #grantRow(r: Row): StoredGovernanceGrant {
    return {
      challengeId: str(r.challenge_id),
      decisionId: str(r.decision_id),
      admissionId: str(r.admission_id),
    };
  }

  async governanceGrants(): Promise<readonly StoredGovernanceGrant[]> {
    const rows = await this.#read(
      'read grants',
      `SELECT * FROM ${this.#t('governance_grants')} ORDER BY challenge_id`,
    );
    return rows.map((r) => this.#grantRow(r));
  }

  /**
   * Which of `challengeIds` were used as an approval grant, on any node: a grant row, or a signed
   * decision (stored with its receipt, or in an open admission) naming the grant
   * (`approval_grant_id`). The grant row is unsigned — a database writer can delete it — while the
   * decisions are the guardian-signed record every chain's receipts point at, so a runtime asks
   * this before it would use an approved grant whose row is missing. Decisions are read through
   * the `decisions_by_grant` expression index; open admissions (few) are read whole.
   */
  async grantsUsed(challengeIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (challengeIds.length === 0) return new Set();
    // base64url payload → JSON, in SQL (standard alphabet, padded).
    const named = (payload: string) =>
      `convert_from(decode(rpad(translate(${payload}, '-_', '+/'), ((length(${payload}) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb ->> 'approval_grant_id'`;
    const rows = await this.#read(
      'read grant uses',
      `SELECT g FROM (
         SELECT challenge_id AS g FROM ${this.#t('governance_grants')} WHERE challenge_id = ANY($1::text[])
         UNION
         SELECT ${this.#t('decision_grant')}(envelope) AS g FROM ${this.#t('decisions')}
          WHERE ${this.#t('decision_grant')}(envelope) IS NOT NULL AND ${this.#t('decision_grant')}(envelope) = ANY($1::text[])
         UNION
         SELECT ${named('p')} AS g
           FROM (SELECT (body::jsonb) -> 'entry' -> 'decision' ->> 'payload' AS p FROM ${this.#t('admissions')}) a
          WHERE p IS NOT NULL
       ) u WHERE g = ANY($1::text[])`,
      [[...new Set(challengeIds)]],
    );
    return new Set(rows.map((r) => str(r.g)));
  }

  async governanceGrant(challengeId: string): Promise<StoredGovernanceGrant | undefined> {
    const rows = await this.#read(
      'read grant',
      `SELECT * FROM ${this.#t('governance_grants')} WHERE challenge_id = $1`,
      [challengeId],
    );
    return rows[0] ? this.#grantRow(rows[0]) : undefined;
  }

  async ledgerApply(ops: readonly LedgerOp[]): Promise<void> {
    checkLedger(ops);
    await this.#tx('apply ledger movements', (c) => this.#applyLedger(c, ops));
  }

  async ledgerAccounts(): Promise<readonly LedgerAccount[]> {
    const rows = await this.#read(
      'read ledger accounts',
      `SELECT account, spent, reserved FROM ${this.#t('ledger_accounts')} ORDER BY account`,
    );
    return rows.map((r) => ({ account: str(r.account), spent: num(r.spent), reserved: num(r.reserved) }));
  }

  async idempotencyEntry(key: string): Promise<IdempotencyEntry | undefined> {
    const rows = await this.#read(
      'read idempotency record',
      `SELECT idem_key, receipt_id, value FROM ${this.#t('idempotency')} WHERE idem_key = $1`,
      [key],
    );
    const r = rows[0];
    return r
      ? {
          key: str(r.idem_key),
          receiptId: str(r.receipt_id),
          value: readJson<Json>(r.value, 'a stored idempotency record'),
        }
      : undefined;
  }

  // ── leadership ────────────────────────────────────────────────────────────────────────────

  /**
   * Try to become the one leader for `role` (e.g. `log`: the node that appends to the global
   * RFC 9162 log and signs its checkpoints). Leadership is a session-level advisory lock held on a
   * dedicated connection: the server releases it when that connection ends, so a dead leader is
   * replaced without any timeout of ours. Resolves undefined when another node leads. The holder
   * must stop acting as leader as soon as `lost` resolves (connection gone, server restarted).
   */
  async tryLead(role: string): Promise<Leadership | undefined> {
    this.#open();
    checkText(role, 'role');
    const c = new Client(this.#connection);
    let lostResolve: () => void = () => {};
    const lost = new Promise<void>((resolve) => {
      lostResolve = resolve;
    });
    c.on('error', () => lostResolve());
    c.on('end', () => lostResolve());
    try {
      await c.connect();
      const { rows } = await c.query<Row>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS held', [
        LOCK_NAMESPACE,
        `lead:${this.schema}:${role}`,
      ]);
      if (rows[0]?.held !== true) {
        await c.end();
        return undefined;
      }
    } catch (error) {
      await c.end().catch(() => undefined);
      throw toStoreError(error, `try to lead ${role}`);
    }
    this.#leaders.add(c);
    let released = false;
    return {
      role,
      lost,
      release: async () => {
        if (released) return;
        released = true;
        this.#leaders.delete(c);
        // Ending the session releases the lock whatever state the connection is in.
        await c.end().catch(() => undefined);
      },
    };
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  /** Wait for queued commits, then close every connection. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#committer?.idle();
    this.#closed = true;
    for (const c of this.#leaders) await c.end().catch(() => undefined);
    this.#leaders.clear();
    await this.#pool.end();
  }
}
