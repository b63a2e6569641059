// The embedded default store: SQLite through `node:sqlite` (built into Node >= 22.5, so no native
// build and no install scripts). WAL journal, versioned migrations, one transaction per governed
// call (or one per group of calls with group commit, each call isolated by a SAVEPOINT).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync as DatabaseSyncType, StatementSync } from 'node:sqlite';
import type { SignedEnvelope } from '@helm/contracts';
import { digest } from '@helm/crypto';
import { StoreError } from './errors.js';
import { GroupCommitter } from './group-commit.js';
import { readStoredJson } from './internal/json.js';
import { MIGRATIONS, SCHEMA_VERSION } from './internal/migrations.js';
import type {
  AdmissionBatchItem,
  GovernanceView,
  LedgerSnapshot,
  ReceiptLookup,
  RuntimeStore,
} from './port.js';
import type {
  AdmissionRecord,
  Artifact,
  ChainHead,
  CommitResult,
  GovernanceApplication,
  GovernanceChallengeRecord,
  GovernanceEventRow,
  GovernedCallRecord,
  HelmStore,
  Json,
  LedgerOp,
  NodeRecord,
  RangeQuery,
  StoredAdmission,
  StoredDecision,
  StoredGovernanceApplication,
  StoredGovernanceChallenge,
  StoredGovernanceGrant,
  StoredNode,
  StoredReceipt,
  StoredRequest,
} from './types.js';

export const DEFAULT_CHAIN = 'default';

// Loaded through getBuiltinModule so bundlers/test runners that do not know the (prefix-only)
// `node:sqlite` built-in leave it alone.
const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

export interface SqliteStoreOptions {
  /** `full` (default): fsync the WAL at every commit — an acknowledged call survives power loss.
   *  `normal`: survives process crashes (SIGKILL) but not OS crashes; faster. */
  readonly durability?: 'full' | 'normal';
  /** Batch concurrently submitted calls into one transaction (default true). */
  readonly groupCommit?: boolean;
  /** Largest group (default 256). */
  readonly maxBatch?: number;
}

type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);

function sqliteCode(error: unknown): number | undefined {
  const e = error as { errcode?: number };
  return typeof e?.errcode === 'number' ? e.errcode : undefined;
}

function isConstraint(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code & 0xff) === 19;
}

function checkRecord(record: GovernedCallRecord): void {
  const r = record.receipt;
  const ok =
    typeof record.sessionId === 'string' &&
    record.sessionId.length > 0 &&
    typeof r?.id === 'string' &&
    r.id.length > 0 &&
    Number.isSafeInteger(r.lamport) &&
    r.lamport >= 1 &&
    typeof r.prevHash === 'string' &&
    typeof r.hash === 'string' &&
    typeof r.envelope?.payload === 'string';
  if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'governed call record is malformed');
  for (const m of record.budget ?? []) {
    if (!Number.isSafeInteger(m.delta))
      throw new StoreError('STORE_INVALID_RECORD', 'budget delta must be an integer');
  }
  checkLedger(record.ledger ?? []);
  if (record.admissionId !== undefined && typeof record.admissionId !== 'string') {
    throw new StoreError('STORE_INVALID_RECORD', 'admissionId must be a string');
  }
}

function checkLedger(ops: readonly LedgerOp[]): void {
  for (const op of ops) {
    if (op?.op === 'reset') {
      if (typeof op.account !== 'string' || op.account.length === 0)
        throw new StoreError('STORE_INVALID_RECORD', 'malformed ledger movement');
      continue;
    }
    const ok =
      typeof op?.id === 'string' &&
      (op.op === 'commit' ||
        op.op === 'refund' ||
        (op.op === 'reserve' &&
          Number.isSafeInteger(op.amount) &&
          op.amount >= 0 &&
          Array.isArray(op.charges) &&
          op.charges.every((c) => typeof c?.account === 'string' && typeof c.ceiling === 'number')));
    if (!ok) throw new StoreError('STORE_INVALID_RECORD', 'malformed ledger movement');
  }
}

const RESERVATION_ID = /^budget-res-(\d+)$/;

/** Open (creating if needed) a SQLite store at `path` (`:memory:` for an ephemeral one). */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options);
}

export class SqliteStore implements HelmStore, RuntimeStore {
  readonly path: string;
  readonly #db: DatabaseSyncType;
  readonly #stmts = new Map<string, StatementSync>();
  readonly #committer: GroupCommitter<GovernedCallRecord, CommitResult> | undefined;
  #closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.#db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec(`PRAGMA synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.#db.exec('PRAGMA busy_timeout = 5000');
    } catch (error) {
      throw new StoreError('STORE_IO', `cannot open SQLite database at ${path}`, { cause: error });
    }
    this.migrateSync();
    this.#committer =
      options.groupCommit === false
        ? undefined
        : new GroupCommitter((items) => this.commitCallsSync(items), {
            ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
          });
  }

  /** Flushes performed by group commit (for benchmarks). */
  get groupFlushes(): number {
    return this.#committer?.flushes ?? 0;
  }

  // ── RuntimeStore: async forms of the synchronous ledger/idempotency operations below ─────────

  async ledgerReserve(
    charges: readonly { readonly account: string; readonly ceiling: number }[],
    amount: number,
  ): Promise<string | null> {
    return this.ledgerReserveSync(charges, amount);
  }

  async ledgerCommit(id: string): Promise<void> {
    this.ledgerCommitSync(id);
  }

  async ledgerRefund(id: string): Promise<void> {
    this.ledgerRefundSync(id);
  }

  async ledgerState(account: string): Promise<{ spent: number; reserved: number }> {
    return this.ledgerStateSync(account);
  }

  async ledgerReservation(id: string): Promise<{ accounts: string[]; amount: number } | undefined> {
    return this.ledgerReservationSync(id);
  }

  async ledgerSnapshot(accounts: readonly string[]): Promise<LedgerSnapshot> {
    // One process owns an embedded store: every open reservation is this handle's, and a
    // synchronous read is one instant.
    const named = new Set(accounts);
    const rows = this.#stmt(
      'SELECT reservation_id, accounts, amount FROM ledger_reservations ORDER BY reservation_id',
    ).all() as Row[];
    return {
      accounts: this.ledgerAccountsSync().filter((a) => named.has(a.account)),
      reservations: rows.map((r) => ({
        id: str(r.reservation_id),
        accounts: readStoredJson<string[]>(str(r.accounts), 'a stored record'),
        amount: num(r.amount),
      })),
    };
  }

  async releaseOrphanReservations(): Promise<readonly string[]> {
    return this.releaseOrphanReservationsSync();
  }

  async putIdempotency(key: string, receiptId: string, value: Json): Promise<boolean> {
    return this.putIdempotencySync(key, receiptId, value);
  }

  #stmt(sql: string): StatementSync {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'store is closed');
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  // ── migrations ────────────────────────────────────────────────────────────────────────────

  /** Current schema version (0 for an empty database). */
  schemaVersion(): number {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)',
    );
    const row = this.#db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row | undefined;
    return row?.v == null ? 0 : num(row.v);
  }

  migrateSync(): number {
    const current = this.schemaVersion();
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        'STORE_UNSUPPORTED_VERSION',
        `database schema v${current} is newer than this helm (v${SCHEMA_VERSION}); upgrade helm`,
      );
    }
    let applied = 0;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      try {
        this.#db.exec('BEGIN IMMEDIATE');
        this.#db.exec(m.sql);
        this.#db
          .prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)')
          .run(m.version, m.name);
        this.#db.exec('COMMIT');
        applied += 1;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw new StoreError('STORE_MIGRATION_FAILED', `migration ${m.version} failed`, { cause: error });
      }
    }
    return applied;
  }

  async migrate(): Promise<number> {
    return this.migrateSync();
  }

  // ── governed calls ────────────────────────────────────────────────────────────────────────

  #writeCall(record: GovernedCallRecord): CommitResult {
    checkRecord(record);
    const chainId = record.chainId ?? DEFAULT_CHAIN;
    const r = record.receipt;
    const head = this.chainHeadSync(chainId);
    const expected = (head?.lamport ?? 0) + 1;
    if (r.lamport !== expected || (head !== undefined && r.prevHash !== head.hash)) {
      throw new StoreError(
        'STORE_CHAIN_CONFLICT',
        `receipt ${r.id} does not extend chain ${chainId} (expected Lamport ${expected}${head ? ` after ${head.hash}` : ''})`,
      );
    }
    const held = record.idempotency ? this.idempotencyEntrySync(record.idempotency.key) : undefined;
    if (record.idempotency && held !== undefined && held.receiptId !== record.idempotency.supersedes) {
      throw new StoreError(
        'STORE_IDEMPOTENCY_CONFLICT',
        `idempotency key ${record.idempotency.key} already recorded`,
      );
    }
    try {
      this.#stmt(
        `INSERT INTO receipts (chain_id, lamport, receipt_id, prev_hash, hash, session_id, decision_id, risk_tier, envelope)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        chainId,
        r.lamport,
        r.id,
        r.prevHash,
        r.hash,
        record.sessionId,
        r.decisionId ?? null,
        r.riskTier ?? null,
        JSON.stringify(r.envelope),
      );
      if (record.decision) {
        this.#stmt('INSERT INTO decisions (decision_id, session_id, envelope) VALUES (?, ?, ?)').run(
          record.decision.id,
          record.sessionId,
          JSON.stringify(record.decision.envelope),
        );
      }
      for (const n of record.nodes ?? []) {
        this.#stmt(
          'INSERT INTO nodes (node_id, kind, lamport, parents, session_id, body) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(n.id, n.kind, n.lamport, JSON.stringify(n.parents), record.sessionId, JSON.stringify(n.body));
      }
      if (record.request) {
        this.#stmt(
          'INSERT INTO requests (request_id, receipt_id, chain_id, lamport, session_id, body) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(
          record.request.id,
          r.id,
          chainId,
          r.lamport,
          record.sessionId,
          JSON.stringify(record.request.body),
        );
      }
      if (record.idempotency) {
        // Only the record the caller saw expire is replaced (checked above): compare-and-swap.
        if (held !== undefined) this.#stmt('DELETE FROM idempotency WHERE idem_key = ?').run(held.key);
        this.#stmt('INSERT INTO idempotency (idem_key, receipt_id, value) VALUES (?, ?, ?)').run(
          record.idempotency.key,
          r.id,
          JSON.stringify(record.idempotency.value),
        );
      }
    } catch (error) {
      if (isConstraint(error)) {
        throw new StoreError('STORE_DUPLICATE', `a row of call ${r.id} already exists`, { cause: error });
      }
      throw error;
    }
    for (const n of record.nonces ?? []) {
      if (!this.#insertNonce(n.scope, n.nonce)) {
        throw new StoreError('STORE_NONCE_REUSED', `nonce ${n.scope}/${n.nonce} was already used`);
      }
    }
    (record.budget ?? []).forEach((m, seq) => {
      const balance = this.budgetBalanceSync(m.key) + m.delta;
      if (m.limit !== undefined && balance > m.limit) {
        throw new StoreError('STORE_BUDGET_EXCEEDED', `budget ${m.key} would reach ${balance} > ${m.limit}`);
      }
      this.#stmt(
        'INSERT INTO budgets (budget_key, balance) VALUES (?, ?) ON CONFLICT (budget_key) DO UPDATE SET balance = excluded.balance',
      ).run(m.key, balance);
      this.#stmt('INSERT INTO budget_movements (receipt_id, seq, budget_key, delta) VALUES (?, ?, ?, ?)').run(
        r.id,
        seq,
        m.key,
        m.delta,
      );
    });
    this.#applyLedger(record.ledger ?? []);
    if (record.admissionId !== undefined) {
      const closed = this.#stmt('DELETE FROM admissions WHERE admission_id = ?').run(record.admissionId);
      if (closed.changes !== 1) {
        throw new StoreError('STORE_INVALID_RECORD', `admission ${record.admissionId} is not open`);
      }
    }
    for (const c of record.challenges ?? []) this.#putChallenge(c, r.id);
    for (const c of record.closedChallenges ?? []) {
      this.#stmt('UPDATE governance_challenges SET closed = ? WHERE challenge_id = ? AND closed IS NULL').run(
        String(c.why),
        String(c.id),
      );
    }
    if (record.governance) this.#applyGovernance(record.governance);
    return { receiptId: r.id, lamport: r.lamport };
  }

  // ── admission journal ─────────────────────────────────────────────────────────────────────

  /**
   * Record an admission and the ledger movements so far (e.g. its reservation) in ONE transaction,
   * durable before the call's driver runs. A duplicate id is STORE_DUPLICATE.
   */
  admitCallSync(admission: AdmissionRecord, ledger: readonly LedgerOp[] = []): void {
    if (typeof admission?.id !== 'string' || typeof admission.sessionId !== 'string') {
      throw new StoreError('STORE_INVALID_RECORD', 'admission record is malformed');
    }
    checkLedger(ledger);
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'store is closed');
    this.#tx(() => {
      this.#applyLedger(ledger);
      const row = this.#stmt('SELECT MAX(seq) AS s FROM admissions').get() as Row;
      const seq = (row.s == null ? 0 : num(row.s)) + 1;
      try {
        this.#stmt(
          'INSERT INTO admissions (admission_id, seq, chain_id, session_id, reservation_id, body) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(
          admission.id,
          seq,
          admission.chainId ?? DEFAULT_CHAIN,
          admission.sessionId,
          admission.reservationId ?? null,
          JSON.stringify(admission.body),
        );
      } catch (error) {
        if (isConstraint(error)) {
          throw new StoreError('STORE_DUPLICATE', `admission ${admission.id} exists`, { cause: error });
        }
        throw error;
      }
      if (admission.grant !== undefined) {
        const used = this.#stmt(
          'INSERT OR IGNORE INTO governance_grants (challenge_id, decision_id, admission_id) VALUES (?, ?, ?)',
        ).run(String(admission.grant.challengeId), String(admission.grant.decisionId), admission.id);
        if (used.changes !== 1) {
          throw new StoreError(
            'STORE_GRANT_CONSUMED',
            `approval grant ${admission.grant.challengeId} was already consumed`,
          );
        }
      }
    });
  }

  async admitCall(admission: AdmissionRecord, ledger?: readonly LedgerOp[]): Promise<void> {
    this.admitCallSync(admission, ledger);
  }

  /**
   * Admissions of calls in flight in ONE transaction (one durable sync for all of them), each its
   * own savepoint. An item's ledger movements are taken (`ledger()`) in the same synchronous step
   * that writes them.
   */
  admitCallsSync(items: readonly AdmissionBatchItem[]): (true | Error)[] {
    return this.#tx(() =>
      items.map((item): true | Error => {
        try {
          // admitCallSync is a savepoint of this transaction: a failing one is rolled back alone
          this.admitCallSync(item.admission, item.ledger?.() ?? []);
          return true;
        } catch (error) {
          return error instanceof Error ? error : new StoreError('STORE_IO', String(error));
        }
      }),
    );
  }

  async admitCalls(items: readonly AdmissionBatchItem[]): Promise<readonly (true | Error)[]> {
    return this.admitCallsSync(items);
  }

  /** Open admissions (no receipt yet), in admission order; optionally of one chain. */
  admissionsSync(chainId?: string): StoredAdmission[] {
    const rows = (
      chainId === undefined
        ? this.#stmt('SELECT * FROM admissions ORDER BY seq').all()
        : this.#stmt('SELECT * FROM admissions WHERE chain_id = ? ORDER BY seq').all(chainId)
    ) as Row[];
    return rows.map((row) => ({
      id: str(row.admission_id),
      seq: num(row.seq),
      chainId: str(row.chain_id),
      sessionId: str(row.session_id),
      reservationId: row.reservation_id == null ? null : str(row.reservation_id),
      body: readStoredJson<Json>(str(row.body), 'a stored record'),
    }));
  }

  async admissions(chainId?: string): Promise<readonly StoredAdmission[]> {
    return this.admissionsSync(chainId);
  }

  /**
   * Start-up only (no other process may be using the store): refund every open reservation that
   * no open admission holds. Such a reservation belongs to a call that never reached admission,
   * so its driver never ran. Returns the refunded ids, ascending.
   */
  releaseOrphanReservationsSync(): string[] {
    return this.#tx(() => {
      const rows = this.#stmt(
        `SELECT reservation_id FROM ledger_reservations WHERE reservation_id NOT IN
           (SELECT reservation_id FROM admissions WHERE reservation_id IS NOT NULL)
         ORDER BY reservation_id`,
      ).all() as Row[];
      const ids = rows.map((r) => str(r.reservation_id));
      for (const id of ids) this.#settleIn(id, false);
      return ids;
    });
  }

  /** Commit one call in its own transaction (synchronous; the SQLite-only fast path). */
  commitCallSync(record: GovernedCallRecord): CommitResult {
    const [result] = this.commitCallsSync([record]);
    if (result instanceof Error) throw result;
    return result as CommitResult;
  }

  /**
   * Commit several calls in ONE transaction; each call runs inside its own SAVEPOINT so a failing
   * call is rolled back alone and reported in its slot, while the others commit together.
   */
  commitCallsSync(records: readonly GovernedCallRecord[]): (CommitResult | Error)[] {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'store is closed');
    const results: (CommitResult | Error)[] = [];
    if (this.#db.isTransaction) {
      // Inside the caller's transaction (`transactionSync`): each call is a savepoint of it, and a
      // failing call is thrown, so the caller's transaction does not commit half of its work.
      for (const record of records) results.push(this.#tx(() => this.#writeCall(record)));
      return results;
    }
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const record of records) {
        this.#db.exec('SAVEPOINT call');
        try {
          results.push(this.#writeCall(record));
          this.#db.exec('RELEASE call');
        } catch (error) {
          this.#db.exec('ROLLBACK TO call');
          this.#db.exec('RELEASE call');
          results.push(error instanceof Error ? error : new StoreError('STORE_IO', String(error)));
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw new StoreError('STORE_IO', 'transaction failed', { cause: error });
    }
    return results;
  }

  commitCall(record: GovernedCallRecord): Promise<CommitResult> {
    if (this.#committer) return this.#committer.submit(record);
    try {
      return Promise.resolve(this.commitCallSync(record));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async commitCalls(records: readonly GovernedCallRecord[]): Promise<readonly (CommitResult | Error)[]> {
    return this.commitCallsSync(records);
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────────────

  chainHeadSync(chainId: string = DEFAULT_CHAIN): ChainHead | undefined {
    const row = this.#stmt(
      'SELECT lamport, hash, receipt_id FROM receipts WHERE chain_id = ? ORDER BY lamport DESC LIMIT 1',
    ).get(chainId) as Row | undefined;
    return row
      ? { chainId, lamport: num(row.lamport), hash: str(row.hash), receiptId: str(row.receipt_id) }
      : undefined;
  }

  async chainHead(chainId?: string): Promise<ChainHead | undefined> {
    return this.chainHeadSync(chainId);
  }

  #range(query: RangeQuery): { where: string; params: (string | number)[] } {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (query.chainId !== undefined) {
      clauses.push('chain_id = ?');
      params.push(query.chainId);
    }
    if (query.sessionId !== undefined) {
      clauses.push('session_id = ?');
      params.push(query.sessionId);
    }
    if (query.fromLamport !== undefined) {
      clauses.push('lamport >= ?');
      params.push(query.fromLamport);
    }
    if (query.toLamport !== undefined) {
      clauses.push('lamport <= ?');
      params.push(query.toLamport);
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  receiptsSync(query: RangeQuery = {}): StoredReceipt[] {
    const { where, params } = this.#range(query);
    const rows = this.#stmt(`SELECT * FROM receipts ${where} ORDER BY chain_id, lamport`).all(
      ...params,
    ) as Row[];
    return rows.map((row) => ({
      chainId: str(row.chain_id),
      sessionId: str(row.session_id),
      id: str(row.receipt_id),
      lamport: num(row.lamport),
      prevHash: str(row.prev_hash),
      hash: str(row.hash),
      ...(row.decision_id == null ? {} : { decisionId: str(row.decision_id) }),
      ...(row.risk_tier == null ? {} : { riskTier: str(row.risk_tier) }),
      envelope: readStoredJson<SignedEnvelope>(str(row.envelope), 'a stored record'),
    }));
  }

  async receipts(query?: RangeQuery): Promise<readonly StoredReceipt[]> {
    return this.receiptsSync(query);
  }

  /**
   * One receipt by its id, or undefined: a lookup on the receipt_id unique index (and the request
   * recorded with it, whose id is the receipt's), never a scan of the chain — `GET /v1/calls/{id}`.
   */
  receiptByIdSync(receiptId: string): ReceiptLookup | undefined {
    const row = this.#stmt('SELECT * FROM receipts WHERE receipt_id = ?').get(receiptId) as Row | undefined;
    if (!row) return undefined;
    const receipt: StoredReceipt = {
      chainId: str(row.chain_id),
      sessionId: str(row.session_id),
      id: str(row.receipt_id),
      lamport: num(row.lamport),
      prevHash: str(row.prev_hash),
      hash: str(row.hash),
      ...(row.decision_id == null ? {} : { decisionId: str(row.decision_id) }),
      ...(row.risk_tier == null ? {} : { riskTier: str(row.risk_tier) }),
      envelope: readStoredJson<SignedEnvelope>(str(row.envelope), 'a stored record'),
    };
    const req = this.#stmt('SELECT * FROM requests WHERE request_id = ? AND receipt_id = ?').get(
      receiptId,
      receiptId,
    ) as Row | undefined;
    if (!req) return { receipt };
    return {
      receipt,
      request: {
        id: str(req.request_id),
        receiptId: str(req.receipt_id),
        chainId: str(req.chain_id),
        lamport: num(req.lamport),
        sessionId: str(req.session_id),
        body: readStoredJson<Json>(str(req.body), 'a stored record'),
      },
    };
  }

  async receiptById(receiptId: string): Promise<ReceiptLookup | undefined> {
    return this.receiptByIdSync(receiptId);
  }

  decisionsSync(ids: readonly string[]): StoredDecision[] {
    const out: StoredDecision[] = [];
    for (const id of [...new Set(ids)].sort()) {
      const row = this.#stmt('SELECT * FROM decisions WHERE decision_id = ?').get(id) as Row | undefined;
      if (row) {
        out.push({
          id: str(row.decision_id),
          sessionId: str(row.session_id),
          envelope: readStoredJson<SignedEnvelope>(str(row.envelope), 'a stored record'),
        });
      }
    }
    return out;
  }

  async decisions(ids: readonly string[]): Promise<readonly StoredDecision[]> {
    return this.decisionsSync(ids);
  }

  nodesSync(query: { readonly sessionId?: string } = {}): StoredNode[] {
    const rows = (
      query.sessionId === undefined
        ? this.#stmt('SELECT * FROM nodes ORDER BY lamport, node_id').all()
        : this.#stmt('SELECT * FROM nodes WHERE session_id = ? ORDER BY lamport, node_id').all(
            query.sessionId,
          )
    ) as Row[];
    return rows.map((row) => ({
      id: str(row.node_id),
      kind: str(row.kind),
      lamport: num(row.lamport),
      parents: readStoredJson<string[]>(str(row.parents), 'a stored record'),
      sessionId: str(row.session_id),
      body: readStoredJson<Json>(str(row.body), 'a stored record'),
    }));
  }

  async nodes(query?: { readonly sessionId?: string }): Promise<readonly StoredNode[]> {
    return this.nodesSync(query);
  }

  requestsSync(query: RangeQuery = {}): StoredRequest[] {
    const { where, params } = this.#range(query);
    const rows = this.#stmt(`SELECT * FROM requests ${where} ORDER BY chain_id, lamport, request_id`).all(
      ...params,
    ) as Row[];
    return rows.map((row) => ({
      id: str(row.request_id),
      receiptId: str(row.receipt_id),
      chainId: str(row.chain_id),
      lamport: num(row.lamport),
      sessionId: str(row.session_id),
      body: readStoredJson<Json>(str(row.body), 'a stored record'),
    }));
  }

  async requests(query?: RangeQuery): Promise<readonly StoredRequest[]> {
    return this.requestsSync(query);
  }

  sessionsSync(): string[] {
    return (this.#stmt('SELECT DISTINCT session_id FROM receipts ORDER BY session_id').all() as Row[]).map(
      (r) => str(r.session_id),
    );
  }

  async sessions(): Promise<readonly string[]> {
    return this.sessionsSync();
  }

  idempotencySync(key: string): Json | undefined {
    const row = this.#stmt('SELECT value FROM idempotency WHERE idem_key = ?').get(key) as Row | undefined;
    return row ? readStoredJson<Json>(str(row.value), 'a stored record') : undefined;
  }

  /** The idempotency record of `key` with the id of the receipt it was stored with. */
  idempotencyEntrySync(key: string): { key: string; receiptId: string; value: Json } | undefined {
    const row = this.#stmt('SELECT receipt_id, value FROM idempotency WHERE idem_key = ?').get(key) as
      | Row
      | undefined;
    return row
      ? {
          key,
          receiptId: str(row.receipt_id),
          value: readStoredJson<Json>(str(row.value), 'a stored record'),
        }
      : undefined;
  }

  async idempotency(key: string): Promise<Json | undefined> {
    return this.idempotencySync(key);
  }

  budgetBalanceSync(key: string): number {
    const row = this.#stmt('SELECT balance FROM budgets WHERE budget_key = ?').get(key) as Row | undefined;
    return row ? num(row.balance) : 0;
  }

  async budgetBalance(key: string): Promise<number> {
    return this.budgetBalanceSync(key);
  }

  nonceUsedSync(scope: string, nonce: string): boolean {
    return (
      this.#stmt('SELECT 1 AS x FROM nonces WHERE scope = ? AND nonce = ?').get(scope, nonce) !== undefined
    );
  }

  async nonceUsed(scope: string, nonce: string): Promise<boolean> {
    return this.nonceUsedSync(scope, nonce);
  }

  #insertNonce(scope: string, nonce: string): boolean {
    return (
      this.#stmt('INSERT OR IGNORE INTO nonces (scope, nonce) VALUES (?, ?)').run(scope, nonce).changes === 1
    );
  }

  consumeNonceSync(scope: string, nonce: string): boolean {
    return this.#insertNonce(scope, nonce);
  }

  async consumeNonce(scope: string, nonce: string): Promise<boolean> {
    return this.consumeNonceSync(scope, nonce);
  }

  // ── standalone port operations (outside a governed-call transaction) ─────────────────────

  /** Append one ProofGraph node; its parents must be stored; a duplicate hash fails. */
  appendNodeSync(sessionId: string, node: NodeRecord): void {
    for (const p of node.parents) {
      if (!this.#stmt('SELECT 1 AS x FROM nodes WHERE node_id = ?').get(p)) {
        throw new StoreError('STORE_INVALID_RECORD', `parent ${p} is not stored`);
      }
    }
    try {
      this.#stmt(
        'INSERT INTO nodes (node_id, kind, lamport, parents, session_id, body) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        node.id,
        node.kind,
        node.lamport,
        JSON.stringify(node.parents),
        sessionId,
        JSON.stringify(node.body),
      );
    } catch (error) {
      if (isConstraint(error))
        throw new StoreError('STORE_DUPLICATE', `node ${node.id} exists`, { cause: error });
      throw error;
    }
  }

  nodeSync(id: string): StoredNode | undefined {
    const row = this.#stmt('SELECT * FROM nodes WHERE node_id = ?').get(id) as Row | undefined;
    return row
      ? {
          id: str(row.node_id),
          kind: str(row.kind),
          lamport: num(row.lamport),
          parents: readStoredJson<string[]>(str(row.parents), 'a stored record'),
          sessionId: str(row.session_id),
          body: readStoredJson<Json>(str(row.body), 'a stored record'),
        }
      : undefined;
  }

  /** Ids of nodes that are nobody's parent, ascending. */
  nodeHeadsSync(): string[] {
    const rows = this.#stmt(
      `SELECT n.node_id FROM nodes n WHERE NOT EXISTS
         (SELECT 1 FROM nodes c, json_each(c.parents) p WHERE p.value = n.node_id)
       ORDER BY n.node_id`,
    ).all() as Row[];
    return rows.map((r) => str(r.node_id));
  }

  nodeCountSync(): number {
    return num((this.#stmt('SELECT COUNT(*) AS n FROM nodes').get() as Row).n);
  }

  /** Record an idempotency result outside a call; false (nothing written) if the key exists. */
  putIdempotencySync(key: string, receiptId: string, value: Json): boolean {
    return (
      this.#stmt('INSERT OR IGNORE INTO idempotency (idem_key, receipt_id, value) VALUES (?, ?, ?)').run(
        key,
        receiptId,
        JSON.stringify(value),
      ).changes === 1
    );
  }

  // ── budget ledger (reserve → commit | refund), each operation one transaction ─────────────

  #savepoints = 0;

  /** One transaction; inside another one (`transactionSync`), a savepoint of it. */
  #tx<T>(fn: () => T): T {
    if (this.#closed) throw new StoreError('STORE_CLOSED', 'store is closed');
    if (this.#db.isTransaction) {
      const name = `sp${++this.#savepoints}`;
      this.#db.exec(`SAVEPOINT ${name}`);
      try {
        const out = fn();
        this.#db.exec(`RELEASE ${name}`);
        return out;
      } catch (error) {
        this.#db.exec(`ROLLBACK TO ${name}`);
        this.#db.exec(`RELEASE ${name}`);
        throw error;
      } finally {
        this.#savepoints--;
      }
    }
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Run `fn` in ONE transaction (BEGIN IMMEDIATE: writers are serialized, also across processes):
   * every synchronous write of this store inside it commits with it or not at all. Nested calls
   * are savepoints. A write through the group committer (`commitCall`) is not part of it.
   */
  transactionSync<T>(fn: () => T): T {
    return this.#tx(fn);
  }

  /** Write every governed call queued by group commit now. */
  flushSync(): void {
    this.#committer?.flushNow();
  }

  #account(key: string): { spent: number; reserved: number } {
    const row = this.#stmt('SELECT spent, reserved FROM ledger_accounts WHERE account = ?').get(key) as
      | Row
      | undefined;
    return row ? { spent: num(row.spent), reserved: num(row.reserved) } : { spent: 0, reserved: 0 };
  }

  #setAccount(key: string, a: { spent: number; reserved: number }): void {
    this.#stmt(
      'INSERT INTO ledger_accounts (account, spent, reserved) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET spent = excluded.spent, reserved = excluded.reserved',
    ).run(key, a.spent, a.reserved);
  }

  /** Reserve `amount` on every account or on none; ids are `budget-res-<n>` in reservation order. */
  ledgerReserveSync(
    charges: readonly { readonly account: string; readonly ceiling: number }[],
    amount: number,
  ): string | null {
    if (!Number.isSafeInteger(amount) || amount < 0) {
      throw new StoreError('STORE_INVALID_RECORD', 'amount must be a non-negative integer');
    }
    return this.#tx(() => {
      for (const c of charges) {
        const a = this.#account(c.account);
        if (a.spent + a.reserved + amount > c.ceiling) return null;
      }
      const id = `budget-res-${this.ledgerCounterSync() + 1}`;
      this.#reserveIn(id, charges, amount);
      return id;
    });
  }

  /** The last reservation number handed out (`budget-res-<n>`). */
  ledgerCounterSync(): number {
    const row = this.#stmt('SELECT value FROM counters WHERE name = ?').get('budget-res') as Row | undefined;
    return row ? num(row.value) : 0;
  }

  /** An open reservation, or undefined. */
  ledgerReservationSync(id: string): { accounts: string[]; amount: number } | undefined {
    const row = this.#stmt('SELECT accounts, amount FROM ledger_reservations WHERE reservation_id = ?').get(
      id,
    ) as Row | undefined;
    return row
      ? { accounts: readStoredJson<string[]>(str(row.accounts), 'a stored record'), amount: num(row.amount) }
      : undefined;
  }

  #reserveIn(
    id: string,
    charges: readonly { readonly account: string; readonly ceiling: number }[],
    amount: number,
  ): void {
    for (const c of charges) {
      const a = this.#account(c.account);
      if (a.spent + a.reserved + amount > c.ceiling) {
        throw new StoreError('STORE_BUDGET_EXCEEDED', `reservation ${id} would exceed ${c.account}`);
      }
    }
    for (const c of charges) {
      const a = this.#account(c.account);
      this.#setAccount(c.account, { spent: a.spent, reserved: a.reserved + amount });
    }
    const m = RESERVATION_ID.exec(id);
    if (m && Number(m[1]) > this.ledgerCounterSync()) {
      this.#stmt(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ).run('budget-res', Number(m[1]));
    }
    try {
      this.#stmt('INSERT INTO ledger_reservations (reservation_id, accounts, amount) VALUES (?, ?, ?)').run(
        id,
        JSON.stringify(charges.map((c) => c.account)),
        amount,
      );
    } catch (error) {
      if (isConstraint(error)) {
        throw new StoreError('STORE_DUPLICATE', `reservation ${id} exists`, { cause: error });
      }
      throw error;
    }
  }

  #settleIn(id: string, spend: boolean): void {
    const open = this.ledgerReservationSync(id);
    if (!open) throw new StoreError('STORE_RESERVATION_UNKNOWN', `no open reservation ${id}`);
    this.#stmt('DELETE FROM ledger_reservations WHERE reservation_id = ?').run(id);
    for (const key of open.accounts) {
      const a = this.#account(key);
      this.#setAccount(key, {
        spent: a.spent + (spend ? open.amount : 0),
        reserved: a.reserved - open.amount,
      });
    }
  }

  /** Apply ledger movements inside the caller's transaction. */
  #applyLedger(ops: readonly LedgerOp[]): void {
    for (const op of ops) {
      if (op.op === 'reserve') this.#reserveIn(op.id, op.charges, op.amount);
      else if (op.op === 'reset') this.#resetIn(op.account);
      else this.#settleIn(op.id, op.op === 'commit');
    }
  }

  #resetIn(account: string): void {
    const a = this.#account(account);
    if (a.spent !== 0) this.#setAccount(account, { spent: 0, reserved: a.reserved });
  }

  /**
   * Apply ledger movements (e.g. administrative resets) in the caller's transaction when there is
   * one — a `GovernanceApplication.apply` runs inside the store's — else in a transaction of their own.
   */
  ledgerApplySync(ops: readonly LedgerOp[]): void {
    checkLedger(ops);
    if (this.#db.isTransaction) this.#applyLedger(ops);
    else this.#tx(() => this.#applyLedger(ops));
  }

  /** Every ledger account with its spent and reserved units, by account name. */
  ledgerAccountsSync(): { account: string; spent: number; reserved: number }[] {
    const rows = this.#stmt(
      'SELECT account, spent, reserved FROM ledger_accounts ORDER BY account',
    ).all() as Row[];
    return rows.map((r) => ({ account: str(r.account), spent: num(r.spent), reserved: num(r.reserved) }));
  }

  #settle(id: string, spend: boolean): void {
    this.#tx(() => this.#settleIn(id, spend));
  }

  ledgerCommitSync(id: string): void {
    this.#settle(id, true);
  }

  ledgerRefundSync(id: string): void {
    this.#settle(id, false);
  }

  ledgerStateSync(account: string): { spent: number; reserved: number } {
    return this.#account(account);
  }

  // ── artifacts and documents ───────────────────────────────────────────────────────────────

  putArtifactSync(artifact: Omit<Artifact, 'digest'>): string {
    const d = digest(artifact.bytes);
    this.#stmt(
      'INSERT OR IGNORE INTO artifacts (digest, kind, name, version, bytes) VALUES (?, ?, ?, ?, ?)',
    ).run(d, artifact.kind, artifact.name, artifact.version, artifact.bytes);
    return d;
  }

  async putArtifact(artifact: Omit<Artifact, 'digest'>): Promise<string> {
    return this.putArtifactSync(artifact);
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

  artifactSync(d: string): Artifact | undefined {
    const row = this.#stmt('SELECT * FROM artifacts WHERE digest = ?').get(d) as Row | undefined;
    return row ? this.#artifactRow(row) : undefined;
  }

  async artifact(d: string): Promise<Artifact | undefined> {
    return this.artifactSync(d);
  }

  artifactsSync(query: { readonly kind?: string } = {}): Artifact[] {
    const rows = (
      query.kind === undefined
        ? this.#stmt('SELECT * FROM artifacts ORDER BY kind, name, version, digest').all()
        : this.#stmt('SELECT * FROM artifacts WHERE kind = ? ORDER BY name, version, digest').all(query.kind)
    ) as Row[];
    return rows.map((r) => this.#artifactRow(r));
  }

  async artifacts(query?: { readonly kind?: string }): Promise<readonly Artifact[]> {
    return this.artifactsSync(query);
  }

  linkArtifactSync(sessionId: string, d: string): void {
    if (!this.artifactSync(d)) throw new StoreError('STORE_INVALID_RECORD', `unknown artifact ${d}`);
    this.#stmt('INSERT OR IGNORE INTO session_artifacts (session_id, digest) VALUES (?, ?)').run(
      sessionId,
      d,
    );
  }

  async linkArtifact(sessionId: string, d: string): Promise<void> {
    this.linkArtifactSync(sessionId, d);
  }

  sessionArtifactsSync(sessionId: string): Artifact[] {
    const rows = this.#stmt(
      `SELECT a.* FROM artifacts a JOIN session_artifacts s ON s.digest = a.digest
       WHERE s.session_id = ? ORDER BY a.kind, a.name, a.version, a.digest`,
    ).all(sessionId) as Row[];
    return rows.map((r) => this.#artifactRow(r));
  }

  async sessionArtifacts(sessionId: string): Promise<readonly Artifact[]> {
    return this.sessionArtifactsSync(sessionId);
  }

  getDocumentSync(namespace: string, key: string): Json | undefined {
    const row = this.#stmt('SELECT value FROM documents WHERE namespace = ? AND doc_key = ?').get(
      namespace,
      key,
    ) as Row | undefined;
    return row ? readStoredJson<Json>(str(row.value), 'a stored record') : undefined;
  }

  async getDocument(namespace: string, key: string): Promise<Json | undefined> {
    return this.getDocumentSync(namespace, key);
  }

  putDocumentSync(namespace: string, key: string, value: Json): void {
    this.#stmt(
      'INSERT INTO documents (namespace, doc_key, value) VALUES (?, ?, ?) ON CONFLICT (namespace, doc_key) DO UPDATE SET value = excluded.value',
    ).run(namespace, key, JSON.stringify(value));
  }

  async putDocument(namespace: string, key: string, value: Json): Promise<void> {
    this.putDocumentSync(namespace, key, value);
  }

  async insertDocument(namespace: string, key: string, value: Json): Promise<boolean> {
    const r = this.#stmt(
      'INSERT INTO documents (namespace, doc_key, value) VALUES (?, ?, ?) ON CONFLICT (namespace, doc_key) DO NOTHING',
    ).run(namespace, key, JSON.stringify(value));
    return Number(r.changes) === 1;
  }

  listDocumentsSync(namespace: string): { key: string; value: Json }[] {
    return (
      this.#stmt('SELECT doc_key, value FROM documents WHERE namespace = ? ORDER BY doc_key').all(
        namespace,
      ) as Row[]
    ).map((r) => ({ key: str(r.doc_key), value: readStoredJson<Json>(str(r.value), 'a stored document') }));
  }

  async listDocuments(namespace: string): Promise<readonly { readonly key: string; readonly value: Json }[]> {
    return this.listDocumentsSync(namespace);
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
      envelope: readStoredJson<SignedEnvelope>(str(row.envelope), 'a stored governance event'),
    };
  }

  /** The last event of the governance log, if any. */
  governanceHeadSync(): { seq: number; chain: string } | undefined {
    const row = this.#stmt('SELECT seq, chain FROM governance_events ORDER BY seq DESC LIMIT 1').get() as
      | Row
      | undefined;
    return row ? { seq: num(row.seq), chain: str(row.chain) } : undefined;
  }

  /**
   * Append one governance event in one short transaction (writers are serialized): `make` is
   * called inside it with the current head and returns the row to append, which must be the
   * next one (seq = head + 1, prev = head's link) — else STORE_GOVERNANCE_CONFLICT. An event whose
   * digest is in the log already is STORE_DUPLICATE.
   */
  appendGovernanceEventSync(
    make: (head: { readonly seq: number; readonly chain: string } | undefined) => GovernanceEventRow,
  ): GovernanceEventRow {
    return this.#tx(() => {
      const head = this.governanceHeadSync();
      const row = make(head);
      if (
        !Number.isSafeInteger(row?.seq) ||
        row.seq !== (head?.seq ?? 0) + 1 ||
        (head !== undefined && row.prev !== head.chain) ||
        typeof row.envelope?.payload !== 'string'
      ) {
        throw new StoreError('STORE_GOVERNANCE_CONFLICT', 'governance event does not extend the log head');
      }
      try {
        this.#stmt(
          `INSERT INTO governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          row.seq,
          row.digest,
          row.prev,
          row.chain,
          row.action,
          row.signer,
          row.subject,
          row.trustSeq,
          JSON.stringify(row.envelope),
        );
      } catch (error) {
        if (isConstraint(error))
          throw new StoreError('STORE_DUPLICATE', `governance event ${row.digest} is in the log already`, {
            cause: error,
          });
        throw error;
      }
      return row;
    });
  }

  /** Governance events from `fromSeq` on (default: all), in log order. */
  governanceEventsSync(fromSeq = 1): GovernanceEventRow[] {
    return (
      this.#stmt('SELECT * FROM governance_events WHERE seq >= ? ORDER BY seq').all(fromSeq) as Row[]
    ).map((r) => this.#eventRow(r));
  }

  /** Governance events about `subject` (e.g. one challenge), in log order. */
  governanceEventsAboutSync(subject: string): GovernanceEventRow[] {
    return (
      this.#stmt('SELECT * FROM governance_events WHERE subject = ? ORDER BY seq').all(subject) as Row[]
    ).map((r) => this.#eventRow(r));
  }

  /** The position of the event with this digest, if it is in the log. */
  governanceEventSeqSync(eventDigest: string): number | undefined {
    const row = this.#stmt('SELECT seq FROM governance_events WHERE digest = ?').get(eventDigest) as
      | Row
      | undefined;
    return row ? num(row.seq) : undefined;
  }

  /** The event at `seq`, if any. */
  governanceEventSync(seq: number): GovernanceEventRow | undefined {
    const row = this.#stmt('SELECT * FROM governance_events WHERE seq = ?').get(seq) as Row | undefined;
    return row ? this.#eventRow(row) : undefined;
  }

  #applyGovernance(a: GovernanceApplication): void {
    try {
      this.#stmt('INSERT INTO governance_applied (seq, digest, chain, record) VALUES (?, ?, ?, ?)').run(
        a.seq,
        a.digest,
        a.chain,
        JSON.stringify(a.record),
      );
    } catch (error) {
      if (isConstraint(error))
        throw new StoreError('STORE_DUPLICATE', `governance event ${a.seq} was applied already`, {
          cause: error,
        });
      throw error;
    }
    this.#stmt(
      'INSERT INTO governance_cursor (id, envelope) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET envelope = excluded.envelope',
    ).run(JSON.stringify(a.cursor));
    if (a.ledger !== undefined) {
      checkLedger(a.ledger);
      this.#applyLedger(a.ledger);
    }
    a.apply?.();
  }

  /**
   * Record the application of one governance event (its record, the runtime's new cursor and the
   * action's own writes) in one transaction; an event applied already is STORE_DUPLICATE.
   */
  applyGovernanceEventSync(application: GovernanceApplication): void {
    this.#tx(() => this.#applyGovernance(application));
  }

  /** Every application record from position `fromSeq` (default 1), in log order. */
  governanceAppliedSync(fromSeq = 1): StoredGovernanceApplication[] {
    return (
      this.#stmt('SELECT * FROM governance_applied WHERE seq >= ? ORDER BY seq').all(fromSeq) as Row[]
    ).map((r) => ({
      seq: num(r.seq),
      digest: str(r.digest),
      chain: str(r.chain),
      record: readStoredJson<Json>(str(r.record), 'a stored governance application'),
    }));
  }

  /** The runtime's signed cursor (how far the log is applied), if any event was applied. */
  governanceCursorSync(): SignedEnvelope | undefined {
    const row = this.#stmt('SELECT envelope FROM governance_cursor WHERE id = 1').get() as Row | undefined;
    return row
      ? readStoredJson<SignedEnvelope>(str(row.envelope), 'the stored governance cursor')
      : undefined;
  }

  #putChallenge(c: GovernanceChallengeRecord, receiptId: string | null): void {
    this.#stmt(
      `INSERT OR IGNORE INTO governance_challenges
         (challenge_id, chain_id, created_at_ms, expires_at_ms, receipt_id, closed, envelope, request)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`,
    ).run(
      c.id,
      c.chainId,
      c.createdAtMs,
      c.expiresAtMs,
      receiptId,
      JSON.stringify(c.envelope),
      JSON.stringify(c.request),
    );
  }

  #challengeRow(row: Row): StoredGovernanceChallenge {
    return {
      id: str(row.challenge_id),
      chainId: str(row.chain_id),
      createdAtMs: num(row.created_at_ms),
      expiresAtMs: num(row.expires_at_ms),
      receiptId: row.receipt_id == null ? null : str(row.receipt_id),
      closed: row.closed == null ? null : str(row.closed),
      envelope: readStoredJson<SignedEnvelope>(str(row.envelope), 'a stored challenge'),
      request: readStoredJson<Json>(str(row.request), 'a stored challenge request'),
    };
  }

  /** Stored approval challenges, oldest first; optionally of one chain. */
  governanceChallengesSync(chainId?: string): StoredGovernanceChallenge[] {
    const rows = (
      chainId === undefined
        ? this.#stmt('SELECT * FROM governance_challenges ORDER BY created_at_ms, challenge_id').all()
        : this.#stmt(
            'SELECT * FROM governance_challenges WHERE chain_id = ? ORDER BY created_at_ms, challenge_id',
          ).all(chainId)
    ) as Row[];
    return rows.map((r) => this.#challengeRow(r));
  }

  governanceChallengeSync(id: string): StoredGovernanceChallenge | undefined {
    const row = this.#stmt('SELECT * FROM governance_challenges WHERE challenge_id = ?').get(id) as
      | Row
      | undefined;
    return row ? this.#challengeRow(row) : undefined;
  }

  /** Consumed approval grants (each recorded with the admission that used it). */
  governanceGrantsSync(): StoredGovernanceGrant[] {
    return (this.#stmt('SELECT * FROM governance_grants ORDER BY challenge_id').all() as Row[]).map((r) => ({
      challengeId: str(r.challenge_id),
      decisionId: str(r.decision_id),
      admissionId: str(r.admission_id),
    }));
  }

  governanceGrantSync(challengeId: string): StoredGovernanceGrant | undefined {
    const r = this.#stmt('SELECT * FROM governance_grants WHERE challenge_id = ?').get(challengeId) as
      | Row
      | undefined;
    return r
      ? { challengeId: str(r.challenge_id), decisionId: str(r.decision_id), admissionId: str(r.admission_id) }
      : undefined;
  }

  // ── GovernanceStore: async forms of the governance and ledger reads/writes above ──────────

  async governanceHead(): Promise<{ seq: number; chain: string } | undefined> {
    return this.governanceHeadSync();
  }

  async appendGovernanceEvent(
    make: (head: { readonly seq: number; readonly chain: string } | undefined) => GovernanceEventRow,
  ): Promise<GovernanceEventRow> {
    return this.appendGovernanceEventSync(make);
  }

  async governanceEvents(fromSeq?: number): Promise<readonly GovernanceEventRow[]> {
    return this.governanceEventsSync(fromSeq);
  }

  async governanceEventsAbout(subject: string): Promise<readonly GovernanceEventRow[]> {
    return this.governanceEventsAboutSync(subject);
  }

  async governanceEventSeq(eventDigest: string): Promise<number | undefined> {
    return this.governanceEventSeqSync(eventDigest);
  }

  async governanceEvent(seq: number): Promise<GovernanceEventRow | undefined> {
    return this.governanceEventSync(seq);
  }

  async applyGovernanceEvent(application: GovernanceApplication): Promise<void> {
    this.applyGovernanceEventSync(application);
  }

  async governanceApplied(fromSeq = 1): Promise<readonly StoredGovernanceApplication[]> {
    return this.governanceAppliedSync(fromSeq);
  }

  async governanceView(chainId?: string): Promise<GovernanceView> {
    // One transaction: a writer in another process (a CLI appending events) is seen whole or not at all.
    return this.#tx(() => ({
      events: this.governanceEventsSync(),
      applied: this.governanceAppliedSync(),
      cursor: this.governanceCursorSync(),
      challenges: this.governanceChallengesSync(chainId),
      grants: this.governanceGrantsSync(),
    }));
  }

  async governanceCursor(): Promise<SignedEnvelope | undefined> {
    return this.governanceCursorSync();
  }

  async governanceChallenges(chainId?: string): Promise<readonly StoredGovernanceChallenge[]> {
    return this.governanceChallengesSync(chainId);
  }

  async governanceChallenge(id: string): Promise<StoredGovernanceChallenge | undefined> {
    return this.governanceChallengeSync(id);
  }

  async governanceGrants(): Promise<readonly StoredGovernanceGrant[]> {
    return this.governanceGrantsSync();
  }

  async governanceGrant(challengeId: string): Promise<StoredGovernanceGrant | undefined> {
    return this.governanceGrantSync(challengeId);
  }

  async ledgerApply(ops: readonly LedgerOp[]): Promise<void> {
    this.ledgerApplySync(ops);
  }

  async ledgerAccounts(): Promise<readonly { account: string; spent: number; reserved: number }[]> {
    return this.ledgerAccountsSync();
  }

  async idempotencyEntry(key: string): Promise<{ key: string; receiptId: string; value: Json } | undefined> {
    return this.idempotencyEntrySync(key);
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  closeSync(): void {
    if (this.#closed) return;
    this.#committer?.flushNow();
    this.#closed = true;
    this.#stmts.clear();
    this.#db.close();
  }

  async close(): Promise<void> {
    this.closeSync();
  }
}
