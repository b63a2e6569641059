// Which store a command runs against: the data directory's embedded SQLite database (default), or a
// PostgreSQL database shared by several runtime nodes (`--database-url` / HELM_DATABASE_URL,
// docs/deployment.md). This file holds the database side of that choice — resolving the URL,
// migrating the schema with a migrating role, inspecting a database for `doctor` — and the rule that
// a command which would govern calls refuses to fall back to the local store when a database was
// asked for (fail closed: an operator who configured the shared database must never get decisions
// recorded somewhere else).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SignedEnvelope } from '@helm/contracts';
import type { RuntimeStore, StoreError } from '@helm/store';
import type { PostgresStore } from '@helm/store-postgres';
import { type TrustRegistry, trustEventDigest } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
import { publishDeploymentFloor } from './deployment-floor.js';
import { pinPublishedLog, schemaOf } from './governance-log-pin.js';
import { type KeyRotation, planKeyRotation } from './key-rotation.js';

/** The environment variable naming the shared database (`--database-url` wins over it). */
export const DATABASE_URL_ENV = 'HELM_DATABASE_URL';

/** The database URL a command was given: the option, else $HELM_DATABASE_URL, else none. */
export function resolveDatabaseUrl(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const url = option ?? env[DATABASE_URL_ENV];
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new RuntimeError(
      'USAGE',
      'the database URL must be a postgres:// (or postgresql://) URL',
      `pass --database-url postgres://user@host:5432/db or set ${DATABASE_URL_ENV}`,
    );
  }
  return url;
}

/** A URL as it may be shown: the password, if any, replaced. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}

export interface DatabaseOptions {
  readonly url: string;
  /** Schema holding HELM's tables (default `public`). */
  readonly schema?: string;
  /** Longest wait for the connection (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

// @helm/store-postgres (pg) loads only when a database is named: the embedded default never pays
// for it at start-up.
const postgres = () => import('@helm/store-postgres');

/**
 * A database on another host only over verified TLS (DATABASE_TLS_REQUIRED): a Network attacker
 * on the path could otherwise read and rewrite every answer the node's safety rests on.
 */
async function requireTls(url: string): Promise<void> {
  const why = (await postgres()).insecureTransport(url);
  if (why)
    throw new RuntimeError(
      'DATABASE_TLS_REQUIRED',
      `${why}: refused, nothing was sent to ${redactDatabaseUrl(url)}`,
      'add `?sslmode=verify-full` (with `sslrootcert=<CA file>` for a private CA) to the database URL — docs/deployment.md "TLS to PostgreSQL"',
    );
}

const handle = async (o: DatabaseOptions, purpose: string): Promise<PostgresStore> => {
  await requireTls(o.url);
  return handleUnchecked(o, purpose);
};

const handleUnchecked = async (o: DatabaseOptions, purpose: string): Promise<PostgresStore> =>
  new (await postgres()).PostgresStore({
    connectionString: o.url,
    nodeId: `${purpose}:${hostname()}:${process.pid}`,
    poolSize: 1,
    groupCommit: false,
    ...(o.schema === undefined ? {} : { schema: o.schema }),
    ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
  });

export interface MigrationResult {
  readonly applied: number;
  readonly version: number;
  /** The serving role granted row access, if one was named. */
  readonly granted?: string;
}

/**
 * Apply pending migrations as the role of `url` (a migrating role that owns the schema) and,
 * when `grantTo` names the serving role, grant it row access only (no DDL). Store failures reject
 * with their StoreError (STORE_UNAVAILABLE, STORE_TIMEOUT, STORE_MIGRATION_FAILED, …).
 */
export async function migrateDatabase(
  o: DatabaseOptions & { readonly grantTo?: string },
): Promise<MigrationResult> {
  const store = await handle(o, 'migrate');
  try {
    const applied = await store.migrate();
    if (o.grantTo !== undefined) await store.grantServingRole(o.grantTo);
    return {
      applied,
      version: await store.schemaVersion(),
      ...(o.grantTo === undefined ? {} : { granted: o.grantTo }),
    };
  } finally {
    await store.close();
  }
}

export interface DatabaseStatus {
  readonly ok: boolean;
  readonly reachable: boolean;
  /** The schema version found (0: not migrated), when reachable. */
  readonly version?: number;
  /** The schema version this build needs. */
  readonly expected: number;
  /** The StoreError code when unreachable or refused. */
  readonly code?: string;
  readonly detail: string;
}

/** Connect and compare the schema version with this build's (for `doctor`); never throws a StoreError. */
export async function inspectDatabase(o: DatabaseOptions): Promise<DatabaseStatus> {
  const { SCHEMA_VERSION } = await postgres();
  const store = await handle(o, 'doctor');
  const shown = redactDatabaseUrl(o.url);
  try {
    const version = await store.schemaVersion();
    if (version === SCHEMA_VERSION)
      return {
        ok: true,
        reachable: true,
        version,
        expected: SCHEMA_VERSION,
        detail: `${shown}: schema v${version}`,
      };
    return {
      ok: false,
      reachable: true,
      version,
      expected: SCHEMA_VERSION,
      code: 'STORE_UNSUPPORTED_VERSION',
      detail:
        version < SCHEMA_VERSION
          ? `${shown}: schema v${version}, this helm needs v${SCHEMA_VERSION}; run \`helmts db migrate\` as the migrating role`
          : `${shown}: schema v${version} is newer than this helm (v${SCHEMA_VERSION}); upgrade helm`,
    };
  } catch (error) {
    const e = error as StoreError;
    return {
      ok: false,
      reachable: false,
      expected: SCHEMA_VERSION,
      code: typeof e?.code === 'string' ? e.code : 'STORE_UNAVAILABLE',
      detail: `${shown}: ${e?.message ?? String(error)}`,
    };
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * A command that does not run on the shared database yet was given one: refuse it. Falling back to
 * the data directory's SQLite file would record decisions, budgets and grants outside the shared
 * database the operator configured — so nothing runs instead. (`run`, `serve` and `export` run on
 * the database: docs/deployment.md lists them.)
 */
export function refuseDatabaseRuntime(url: string, command?: string): never {
  throw new RuntimeError(
    'DATABASE_RUNTIME_UNSUPPORTED',
    `${command === undefined ? 'this command' : `\`helmts ${command}\``} cannot run on the shared database ${redactDatabaseUrl(url)} yet: it runs on the data directory's embedded store only`,
    // Not "drop --database-url": on a database deployment the data directory's helm.db is read by
    // no node, so whatever the command wrote there would silently have no effect.
    `on a database deployment do this in the template data directory before copying it to the nodes, or use a command that runs on the database (\`run\`, \`serve\`, \`export\`, \`db …\`, \`doctor\`, approvals, identity, egress, delegate, budget) — docs/deployment.md lists which; nothing was written to this directory's helm.db, which no node reads`,
  );
}

export interface NodeStoreOptions extends DatabaseOptions {
  /** Admission lease on the database clock (default 30000 ms; the runtime renews every third). */
  readonly leaseMs?: number;
  /** Connections of this node's pool (default 4). */
  readonly poolSize?: number;
}

/**
 * Open the shared database as the store of this node's runtime and attach it to `data`. The node
 * id is the data directory's chain id: one chain has one writer (the runtime holds the chain's
 * advisory lock while open), and a restarted node finds its own open admissions under the same id.
 * The serving role runs no DDL (`migrate: false`): a schema other than this build's is refused
 * (STORE_UNSUPPORTED_VERSION). An unreachable database rejects with STORE_UNAVAILABLE /
 * STORE_TIMEOUT before anything else happens.
 */
export async function attachDatabase(data: DataDir, o: NodeStoreOptions): Promise<PostgresStore> {
  data.requireInitialized();
  const chain = data.config().chain_id;
  await requireTls(o.url);
  const store = await (await postgres()).openPostgresStore({
    connectionString: o.url,
    nodeId: chain,
    migrate: false,
    ...(o.schema === undefined ? {} : { schema: o.schema }),
    ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
    ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
    ...(o.poolSize === undefined ? {} : { poolSize: o.poolSize }),
  });
  let log: string | undefined;
  try {
    log = await governanceLogOf(store);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  // No log named (no registry published yet): the runtime's open refuses (DATABASE_TRUST_MISMATCH).
  data.attachStore(store, log);
  return store;
}

/** Where the database keeps the name of its governance log (written once, at the first publication). */
const GOVERNANCE_LOG_DOC = ['meta', 'governance-log'] as const;

/**
 * The name of the database's one governance log, if its registry was published
 * (`publishTrustRegistry`). An unsigned row: the runtime's open and every append check it against
 * the node's own record (governance-log-pin.ts).
 */
export async function governanceLogOf(store: RuntimeStore): Promise<string | undefined> {
  const v = await store.getDocument(...GOVERNANCE_LOG_DOC);
  return typeof v === 'string' && /^db:[0-9a-f]{32}$/.test(v) ? v : undefined;
}

export interface TrustPublication {
  /** Events written now (0: the database held this registry already). */
  readonly written: number;
  /** Events in the database's registry afterwards. */
  readonly events: number;
}

/**
 * Put this data directory's trust registry (from its embedded store) into the shared database, once
 * per deployment: every node then reads the registry there at open. A database holding another
 * registry — another genesis, or events that are not the directory's own at the same positions —
 * is refused (DATABASE_TRUST_MISMATCH); a database holding a prefix of it gets the rest.
 */
export async function publishTrustRegistry(data: DataDir, store: RuntimeStore): Promise<TrustPublication> {
  const docs = data.store.listDocumentsSync('trust');
  const local = docs.map((d) => d.value as unknown as SignedEnvelope);
  const held = (await store.listDocuments('trust')).map((d) => d.value as unknown as SignedEnvelope);
  for (const [i, e] of held.entries()) {
    const mine = local[i];
    if (mine === undefined || trustEventDigest(mine) !== trustEventDigest(e))
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `the shared database's trust registry differs from ${data.dir}'s at event ${i + 1}; nothing was written`,
        "each node's data directory must be a copy of the deployment's (one trust root): see docs/deployment.md",
      );
  }
  let written = 0;
  for (let i = held.length; i < local.length; i++) {
    const doc = docs[i] as (typeof docs)[number];
    // Insert-only: an event another writer put at this seq meanwhile is never replaced; it must be
    // this directory's own (a concurrent publication of the same registry), else the registries fork.
    if (!(await store.insertDocument('trust', doc.key, doc.value))) {
      const there = (await store.getDocument('trust', doc.key)) as unknown as SignedEnvelope | undefined;
      if (
        there === undefined ||
        trustEventDigest(there) !== trustEventDigest(doc.value as unknown as SignedEnvelope)
      )
        throw new RuntimeError(
          'DATABASE_TRUST_MISMATCH',
          `another trust event reached the shared database at trust seq ${i + 1} at the same time; the rest was not written`,
          'check `helmts trust head --database-url …`: the database holds another registry now',
        );
      continue;
    }
    written++;
  }
  // The database's one governance log is named once, at random: an event signed for this
  // database's log does not verify on another database of the same trust root (a staging copy).
  // The publishing directory records the name (governance-log-pin.ts): node directories copied
  // from it refuse a database whose row was pointed at another deployment's log.
  const existing = await governanceLogOf(store);
  const name = existing ?? `db:${randomBytes(16).toString('hex')}`;
  if (existing === undefined) await store.putDocument(...GOVERNANCE_LOG_DOC, name);
  const schema = schemaOf(store);
  if (schema !== undefined) pinPublishedLog(data, schema, name, existing === undefined);
  // The deployment's policy bundle floor and initial bindings are the publishing directory's.
  await publishDeploymentFloor(data, store);
  return { written, events: local.length };
}

/**
 * `helmts keys rotate <name> --database-url`: rotate a key of the deployment in `data` (rotateKey)
 * and publish the rotation to the shared database in the same command, so every node sees it
 * before its next decision (a running node refuses TRUST_REGISTRY_STALE until it is reopened
 * under it). Refused before anything is signed (DATABASE_TRUST_MISMATCH) unless the database holds
 * exactly this directory's registry — a directory behind the database (another administrator
 * rotated since) would fork the registry. The published row is read back: of two administrators
 * rotating at once, the one whose event is not the database's is told so (nothing decides under
 * a fork: every node refuses a registry other than the one it has seen, trust-floor.json).
 */
export async function rotateKeyOnDatabase(
  data: DataDir,
  name: string,
  o: DatabaseOptions,
  rootKeyDir?: string,
): Promise<KeyRotation & { readonly written: number }> {
  data.requireInitialized();
  const store = await handle(o, 'rotate');
  try {
    // The database's registry, verified under this directory's trust anchor (the nodes' registry:
    // a node directory keeps none of its own).
    const held = (await store.listDocuments('trust')).map((d) => d.value as unknown as SignedEnvelope);
    if (held.length === 0)
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `${redactDatabaseUrl(o.url)} holds no trust registry: nothing was rotated`,
        'publish the deployment first: `helmts db publish-trust` (docs/deployment.md)',
      );
    let registry: TrustRegistry;
    try {
      registry = data.registryFrom(held);
    } catch (error) {
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `the shared database's trust registry does not verify under ${data.dir}'s trust anchor: ${(error as Error).message}`,
        "each node's data directory must be a copy of the deployment's (one trust root): docs/deployment.md",
      );
    }
    // Signed now, written locally only once the event is the database's: a rotation that loses a
    // race leaves keys/<name>.json (the old, still valid key) and the policy files as they were.
    const planned = planKeyRotation(data, registry, name, rootKeyDir);
    const written = { key: String(registry.seq).padStart(8, '0'), envelope: planned.event };
    // Insert-only: of two administrators rotating from the same head, the second write never
    // replaces the first's committed event (an upsert did: the first rotation was lost while both
    // reported success); the one that finds its seq taken is told.
    const inserted = await store.insertDocument('trust', written.key, written.envelope as never);
    // Read back: the event at its seq is this one, and the registry grew by exactly it.
    const after = await store.listDocuments('trust');
    const stored = after.find((d) => d.key === written.key)?.value as unknown as SignedEnvelope | undefined;
    if (
      !inserted ||
      after.length !== held.length + 1 ||
      stored === undefined ||
      trustEventDigest(stored) !== trustEventDigest(written.envelope)
    )
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `another trust event reached the shared database at trust seq ${registry.seq} at the same time: this rotation is not the deployment's; keys/${name}.json is unchanged`,
        'check `helmts trust head --database-url …` and rotate again if the key is still live',
      );
    return { ...planned.commit(), written: 1 };
  } finally {
    await store.close();
  }
}

/** `helmts db publish-trust`: publishTrustRegistry through a handle of its own (serving role: no DDL). */
export async function publishTrust(data: DataDir, o: DatabaseOptions): Promise<TrustPublication> {
  data.requireInitialized();
  const store = await handle(o, 'publish');
  try {
    if ((await store.schemaVersion()) === 0)
      throw new RuntimeError(
        'DATABASE_TRUST_MISMATCH',
        `${redactDatabaseUrl(o.url)} is not migrated; nothing was written`,
        'run `helmts db migrate` as the migrating role first (docs/deployment.md)',
      );
    return await publishTrustRegistry(data, store);
  } finally {
    await store.close();
  }
}
