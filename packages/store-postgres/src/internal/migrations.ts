// Versioned schema migrations for PostgreSQL, as SQL strings over the store's schema (`$S` is
// replaced by the quoted schema name). Each migration runs in one transaction together with the
// row that records it, under a transaction-level advisory lock, so concurrent migrators (two nodes
// starting at once, `helm db migrate` during a rollout) apply each version exactly once and a
// failed migration leaves the previous version intact.
//
// Every text column that is a key or an ordering column uses the "C" collation: rows come back in
// byte order of their UTF-8 text, exactly as SQLite orders them, whatever the database's locale.

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'governed calls, admissions with leases, budget ledger, artifacts and documents',
    sql: `
      CREATE TABLE $S.chain_heads (
        chain_id     text COLLATE "C" PRIMARY KEY,
        lamport      bigint NOT NULL CHECK (lamport >= 0),
        hash         text   NOT NULL,
        receipt_id   text   NOT NULL
      );
      CREATE TABLE $S.receipts (
        chain_id     text COLLATE "C" NOT NULL,
        lamport      bigint NOT NULL CHECK (lamport >= 1),
        receipt_id   text COLLATE "C" NOT NULL,
        prev_hash    text NOT NULL,
        hash         text NOT NULL,
        session_id   text COLLATE "C" NOT NULL,
        decision_id  text,
        risk_tier    text,
        envelope     text NOT NULL,
        prev_lamport bigint GENERATED ALWAYS AS (NULLIF(lamport - 1, 0)) STORED,
        CONSTRAINT receipts_chain_lamport UNIQUE (chain_id, lamport),
        CONSTRAINT receipts_receipt_id UNIQUE (receipt_id),
        CONSTRAINT receipts_no_gap FOREIGN KEY (chain_id, prev_lamport) REFERENCES $S.receipts (chain_id, lamport)
      );
      CREATE INDEX receipts_by_session ON $S.receipts (session_id, chain_id, lamport);
      CREATE TABLE $S.decisions (
        decision_id  text COLLATE "C" PRIMARY KEY,
        session_id   text COLLATE "C" NOT NULL,
        envelope     text NOT NULL
      );
      CREATE TABLE $S.nodes (
        node_id      text COLLATE "C" PRIMARY KEY,
        kind         text   NOT NULL,
        lamport      bigint NOT NULL,
        parents      text   NOT NULL,
        session_id   text COLLATE "C" NOT NULL,
        body         text   NOT NULL
      );
      CREATE INDEX nodes_by_lamport ON $S.nodes (lamport, node_id);
      CREATE INDEX nodes_by_session ON $S.nodes (session_id, lamport, node_id);
      CREATE TABLE $S.requests (
        request_id   text COLLATE "C" PRIMARY KEY,
        receipt_id   text   NOT NULL,
        chain_id     text COLLATE "C" NOT NULL,
        lamport      bigint NOT NULL,
        session_id   text COLLATE "C" NOT NULL,
        body         text   NOT NULL
      );
      CREATE INDEX requests_by_chain ON $S.requests (chain_id, lamport, request_id);
      CREATE TABLE $S.budgets (
        budget_key   text COLLATE "C" PRIMARY KEY,
        balance      bigint NOT NULL
      );
      CREATE TABLE $S.budget_movements (
        receipt_id   text COLLATE "C" NOT NULL,
        seq          integer NOT NULL,
        budget_key   text   NOT NULL,
        delta        bigint NOT NULL,
        PRIMARY KEY (receipt_id, seq)
      );
      CREATE TABLE $S.idempotency (
        idem_key     text COLLATE "C" PRIMARY KEY,
        receipt_id   text NOT NULL,
        value        text NOT NULL
      );
      CREATE TABLE $S.nonces (
        scope        text COLLATE "C" NOT NULL,
        nonce        text COLLATE "C" NOT NULL,
        PRIMARY KEY (scope, nonce)
      );
      CREATE TABLE $S.artifacts (
        digest       text COLLATE "C" PRIMARY KEY,
        kind         text COLLATE "C" NOT NULL,
        name         text COLLATE "C" NOT NULL,
        version      text COLLATE "C" NOT NULL,
        bytes        bytea NOT NULL
      );
      CREATE TABLE $S.session_artifacts (
        session_id   text COLLATE "C" NOT NULL,
        digest       text COLLATE "C" NOT NULL REFERENCES $S.artifacts (digest),
        PRIMARY KEY (session_id, digest)
      );
      CREATE TABLE $S.documents (
        namespace    text COLLATE "C" NOT NULL,
        doc_key      text COLLATE "C" NOT NULL,
        value        text NOT NULL,
        PRIMARY KEY (namespace, doc_key)
      );
      CREATE TABLE $S.ledger_accounts (
        account      text COLLATE "C" PRIMARY KEY,
        spent        bigint NOT NULL CHECK (spent >= 0),
        reserved     bigint NOT NULL CHECK (reserved >= 0)
      );
      CREATE TABLE $S.ledger_reservations (
        reservation_id text COLLATE "C" PRIMARY KEY,
        accounts       text   NOT NULL,
        amount         bigint NOT NULL CHECK (amount >= 0),
        node_id        text COLLATE "C" NOT NULL,
        lease_until    timestamptz NOT NULL
      );
      CREATE SEQUENCE $S.ledger_reservation_seq;
      CREATE TABLE $S.admissions (
        admission_id   text COLLATE "C" PRIMARY KEY,
        seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        chain_id       text COLLATE "C" NOT NULL,
        session_id     text COLLATE "C" NOT NULL,
        reservation_id text COLLATE "C",
        node_id        text COLLATE "C" NOT NULL,
        lease_until    timestamptz NOT NULL,
        body           text NOT NULL
      );
      CREATE INDEX admissions_by_chain ON $S.admissions (chain_id, seq);
      CREATE INDEX admissions_by_node ON $S.admissions (node_id);
      CREATE INDEX admissions_by_lease ON $S.admissions (lease_until);
      CREATE INDEX admissions_by_reservation ON $S.admissions (reservation_id);`,
  },
  {
    version: 2,
    name: 'governance: signed event log, its application records, approval challenges and consumed grants',
    sql: `
      CREATE TABLE $S.governance_events (
        seq          bigint PRIMARY KEY CHECK (seq >= 1),
        digest       text COLLATE "C" NOT NULL UNIQUE,
        prev         text NOT NULL,
        chain        text NOT NULL,
        action       text NOT NULL,
        signer       text NOT NULL,
        subject      text COLLATE "C",
        trust_seq    bigint NOT NULL,
        envelope     text NOT NULL
      );
      CREATE INDEX governance_events_by_subject ON $S.governance_events (subject, seq);
      CREATE TABLE $S.governance_applied (
        seq          bigint PRIMARY KEY,
        digest       text NOT NULL,
        chain        text NOT NULL,
        record       text NOT NULL
      );
      CREATE TABLE $S.governance_cursor (
        id           integer PRIMARY KEY CHECK (id = 1),
        envelope     text NOT NULL
      );
      CREATE TABLE $S.governance_challenges (
        challenge_id  text COLLATE "C" PRIMARY KEY,
        chain_id      text COLLATE "C" NOT NULL,
        created_at_ms bigint NOT NULL,
        expires_at_ms bigint NOT NULL,
        receipt_id    text,
        closed        text,
        envelope      text NOT NULL,
        request       text NOT NULL
      );
      CREATE INDEX governance_challenges_by_time ON $S.governance_challenges (created_at_ms, challenge_id);
      CREATE TABLE $S.governance_grants (
        challenge_id  text COLLATE "C" PRIMARY KEY,
        decision_id   text NOT NULL,
        admission_id  text NOT NULL
      );`,
  },
  {
    version: 3,
    name: 'receipts by decision (a receipted admission is closed); an open admission claims its idempotency key',
    sql: `
      CREATE INDEX receipts_by_decision ON $S.receipts (decision_id);
      ALTER TABLE $S.admissions ADD COLUMN idem_key text COLLATE "C";
      CREATE UNIQUE INDEX admissions_by_idem_key ON $S.admissions (idem_key) WHERE idem_key IS NOT NULL;`,
  },
  {
    version: 4,
    name: 'decisions by the approval grant they use (grantsUsed: the signed record of a grant use, indexed)',
    // The grant a decision names, read from its signed payload (base64url JSON). IMMUTABLE: a
    // function of the stored text alone (the database encoding is fixed), so it can be indexed;
    // a payload that does not decode names no grant rather than refusing the row.
    sql: `
      CREATE FUNCTION $S.decision_grant(envelope text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
        DECLARE p text;
        BEGIN
          p := (envelope::jsonb) ->> 'payload';
          IF p IS NULL THEN RETURN NULL; END IF;
          RETURN convert_from(decode(rpad(translate(p, '-_', '+/'), ((length(p) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb ->> 'approval_grant_id';
        EXCEPTION WHEN others THEN
          RETURN NULL;
        END;
      $fn$;
      CREATE INDEX decisions_by_grant ON $S.decisions ($S.decision_grant(envelope)) WHERE $S.decision_grant(envelope) IS NOT NULL;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
