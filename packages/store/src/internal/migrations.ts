// Versioned schema migrations. Each migration runs inside one transaction together with the row
// that records it, so a crash mid-migration leaves the previous version intact and re-running is a
// no-op (idempotent). The SQL uses only portable types (TEXT, INTEGER, BLOB) and explicit keys.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'governed calls: receipts, decisions, nodes, requests, budgets, idempotency, nonces',
    sql: `
      CREATE TABLE receipts (
        chain_id     TEXT    NOT NULL,
        lamport      INTEGER NOT NULL,
        receipt_id   TEXT    NOT NULL UNIQUE,
        prev_hash    TEXT    NOT NULL,
        hash         TEXT    NOT NULL,
        session_id   TEXT    NOT NULL,
        decision_id  TEXT,
        risk_tier    TEXT,
        envelope     TEXT    NOT NULL,
        PRIMARY KEY (chain_id, lamport)
      );
      CREATE INDEX receipts_by_session ON receipts (session_id, chain_id, lamport);
      CREATE TABLE decisions (
        decision_id  TEXT PRIMARY KEY,
        session_id   TEXT NOT NULL,
        envelope     TEXT NOT NULL
      );
      CREATE TABLE nodes (
        node_id      TEXT    PRIMARY KEY,
        kind         TEXT    NOT NULL,
        lamport      INTEGER NOT NULL,
        parents      TEXT    NOT NULL,
        session_id   TEXT    NOT NULL,
        body         TEXT    NOT NULL
      );
      CREATE INDEX nodes_by_session ON nodes (session_id, lamport, node_id);
      CREATE TABLE requests (
        request_id   TEXT    PRIMARY KEY,
        receipt_id   TEXT    NOT NULL,
        chain_id     TEXT    NOT NULL,
        lamport      INTEGER NOT NULL,
        session_id   TEXT    NOT NULL,
        body         TEXT    NOT NULL
      );
      CREATE TABLE budgets (
        budget_key   TEXT    PRIMARY KEY,
        balance      INTEGER NOT NULL
      );
      CREATE TABLE budget_movements (
        receipt_id   TEXT    NOT NULL,
        seq          INTEGER NOT NULL,
        budget_key   TEXT    NOT NULL,
        delta        INTEGER NOT NULL,
        PRIMARY KEY (receipt_id, seq)
      );
      CREATE TABLE idempotency (
        idem_key     TEXT PRIMARY KEY,
        receipt_id   TEXT NOT NULL,
        value        TEXT NOT NULL
      );
      CREATE TABLE nonces (
        scope        TEXT NOT NULL,
        nonce        TEXT NOT NULL,
        PRIMARY KEY (scope, nonce)
      );`,
  },
  {
    version: 2,
    name: 'artifacts in force and configuration documents',
    sql: `
      CREATE TABLE artifacts (
        digest       TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        name         TEXT NOT NULL,
        version      TEXT NOT NULL,
        bytes        BLOB NOT NULL
      );
      CREATE TABLE session_artifacts (
        session_id   TEXT NOT NULL,
        digest       TEXT NOT NULL,
        PRIMARY KEY (session_id, digest)
      );
      CREATE TABLE documents (
        namespace    TEXT NOT NULL,
        doc_key      TEXT NOT NULL,
        value        TEXT NOT NULL,
        PRIMARY KEY (namespace, doc_key)
      );`,
  },
  {
    version: 3,
    name: 'budget ledger: accounts, reservations and a reservation counter',
    sql: `
      CREATE TABLE ledger_accounts (
        account      TEXT    PRIMARY KEY,
        spent        INTEGER NOT NULL,
        reserved     INTEGER NOT NULL
      );
      CREATE TABLE ledger_reservations (
        reservation_id TEXT    PRIMARY KEY,
        accounts       TEXT    NOT NULL,
        amount         INTEGER NOT NULL
      );
      CREATE TABLE counters (
        name         TEXT    PRIMARY KEY,
        value        INTEGER NOT NULL
      );`,
  },
  {
    version: 4,
    name: 'admission journal: calls admitted (their driver may run) whose receipt is not stored yet',
    sql: `
      CREATE TABLE admissions (
        admission_id   TEXT    PRIMARY KEY,
        seq            INTEGER NOT NULL UNIQUE,
        chain_id       TEXT    NOT NULL,
        session_id     TEXT    NOT NULL,
        reservation_id TEXT,
        body           TEXT    NOT NULL
      );`,
  },
  {
    version: 5,
    name: 'governance: signed event log, its application records, approval challenges and consumed grants',
    sql: `
      CREATE TABLE governance_events (
        seq          INTEGER PRIMARY KEY,
        digest       TEXT    NOT NULL UNIQUE,
        prev         TEXT    NOT NULL,
        chain        TEXT    NOT NULL,
        action       TEXT    NOT NULL,
        signer       TEXT    NOT NULL,
        subject      TEXT,
        trust_seq    INTEGER NOT NULL,
        envelope     TEXT    NOT NULL
      );
      CREATE INDEX governance_events_by_subject ON governance_events (subject, seq);
      CREATE TABLE governance_applied (
        seq          INTEGER PRIMARY KEY,
        digest       TEXT    NOT NULL,
        chain        TEXT    NOT NULL,
        record       TEXT    NOT NULL
      );
      CREATE TABLE governance_cursor (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        envelope     TEXT    NOT NULL
      );
      CREATE TABLE governance_challenges (
        challenge_id  TEXT    PRIMARY KEY,
        chain_id      TEXT    NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        receipt_id    TEXT,
        closed        TEXT,
        envelope      TEXT    NOT NULL,
        request       TEXT    NOT NULL
      );
      CREATE INDEX governance_challenges_by_time ON governance_challenges (created_at_ms, challenge_id);
      CREATE TABLE governance_grants (
        challenge_id  TEXT PRIMARY KEY,
        decision_id   TEXT NOT NULL,
        admission_id  TEXT NOT NULL
      );`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
