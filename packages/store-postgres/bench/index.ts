// Store commit throughput, SQLite vs PostgreSQL, in one run (ratios, not absolute numbers).
// Each governed call writes a receipt + decision + ProofGraph node + request + idempotency record
// as the runtime commits a call (its ledger movement only when a budget applies). Rows:
//   SQLite (synchronous=FULL, group commit, 64 in flight)            — the baseline
//   PostgreSQL 1 node, one transaction per call (1 in flight)
//   PostgreSQL 1 node, group commit (64 in flight)
//   PostgreSQL 2 nodes, one chain each, group commit (64 in flight each)
//   PostgreSQL 2 nodes, ONE shared chain (read head → sign → commit, retry on conflict) — the
//     alternative chain model, for the decision in docs/spec/multi-node.md
//   admit + commit, SQLite and PostgreSQL 1 node — the two transactions the governed runtime pays
//     per call on the async store port (an admission with its reservation through batched
//     `admitCalls`, then the receipt closing it through batched `commitCalls`; one batch in
//     flight each, as packages/runtime/src/internal/unit.ts does)
//   decision read + admit + commit — the same, plus the read the decision makes first on the
//     async port (one `ledgerSnapshot`, joined by the calls arriving while it is in flight, as
//     packages/runtime/src/internal/port-decision.ts does)
// plus calls per CPU-second (this process + the PostgreSQL backends serving it; the 2 cores are
// shared with the database here). Store-level only: the full governed pipeline rows belong to the
// runtime's durable bench (issue 21/14).
// Run: pnpm build && node bench/index.ts   (BENCH_N calls per row, default 2000;
// HELM_BENCH_DATABASE_URL / HELM_TEST_DATABASE_URL choose the server, as the tests do)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, digest, fromBase64Url, signEnvelope } from '@helm/crypto';
import {
  type AdmissionBatchItem,
  type CommitResult,
  type GovernedCallRecord,
  GroupCommitter,
  openSqliteStore,
  type RuntimeStore,
} from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import pg from 'pg';

const N = Number(process.env.BENCH_N ?? 2000);
const ADMIN =
  process.env.HELM_BENCH_DATABASE_URL ??
  process.env.HELM_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const signer = createSigner(new Uint8Array(32).fill(7));
const TICK_MS = 10; // USER_HZ = 100 on Linux

function calls(n: number, chainId: string): GovernedCallRecord[] {
  let prev = `sha256:${'0'.repeat(64)}`;
  const out: GovernedCallRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const envelope = signEnvelope({ type: 'helm.bench.receipt.v1', lamport: i, prev_hash: prev, chainId }, [
      signer,
    ]);
    const hash = digest(fromBase64Url(envelope.payload) as Uint8Array);
    const id = `${chainId}-${i}`;
    out.push({
      sessionId: chainId,
      chainId,
      receipt: { id: `r-${id}`, lamport: i, prevHash: prev, hash, decisionId: `d-${id}`, envelope },
      decision: { id: `d-${id}`, envelope },
      nodes: [
        {
          id: `n-${id}`,
          kind: 'EFFECT',
          lamport: i,
          parents: i > 1 ? [`n-${chainId}-${i - 1}`] : [],
          body: { i },
        },
      ],
      request: { id: `q-${id}`, body: { i } },
      idempotency: { key: `k-${id}`, value: { r: i } },
    });
    prev = hash;
  }
  return out;
}

/** CPU milliseconds of these processes so far (utime + stime from /proc). */
function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process is gone
    }
  }
  return ticks * TICK_MS;
}

/** Per-call latencies (submit → commit acknowledged), milliseconds, of the rows being measured. */
const latencies: number[] = [];

async function drive(
  store: RuntimeStore,
  work: readonly GovernedCallRecord[],
  inFlight: number,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const t = performance.now();
      await store.commitCall(work[next++] as GovernedCallRecord);
      latencies.push(performance.now() - t);
    }
  };
  // Workers take calls in order; with group commit they reach the chain in submission order.
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/**
 * The runtime's durable path per call: admission (with its reservation) through batched
 * `admitCalls`, then the receipt (closing the admission, committing the reservation) through
 * batched `commitCalls`. Workers take calls in order; admissions resolve in submission order, so
 * receipts are submitted in Lamport order (a receipt out of order would fail, and be counted).
 */
async function driveAdmitCommit(
  store: RuntimeStore,
  work: readonly GovernedCallRecord[],
  inFlight: number,
  decisionRead = false,
): Promise<{ admits: number; commits: number; failed: number; reads: number }> {
  const admit = new GroupCommitter<AdmissionBatchItem, true>((items) => store.admitCalls(items));
  const commit = new GroupCommitter<GovernedCallRecord, CommitResult>((items) => store.commitCalls(items));
  let next = 0;
  let failed = 0;
  // The decision's read on the async port (packages/runtime/src/internal/port-decision.ts): one
  // `ledgerSnapshot` before each decision, joined by the calls that arrive while it is in flight.
  let reading: Promise<unknown> | undefined;
  let reads = 0;
  const read = (account: string): Promise<unknown> => {
    reading ??= store.ledgerSnapshot([account]).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const call = work[next++] as GovernedCallRecord;
      const t = performance.now();
      const id = `adm-${call.receipt.id}`;
      const reservation = `res-${call.receipt.id}`;
      try {
        if (decisionRead) {
          const before = reading;
          await read(`acct-${call.chainId}`);
          if (before === undefined) reads += 1;
        }
        await admit.submit({
          admission: {
            id,
            chainId: call.chainId as string,
            sessionId: call.sessionId,
            reservationId: reservation,
            body: {},
          },
          ledger: () => [
            {
              op: 'reserve',
              id: reservation,
              charges: [{ account: `acct-${call.chainId}`, ceiling: 1e12 }],
              amount: 1,
            },
          ],
        });
        await commit.submit({ ...call, admissionId: id, ledger: [{ op: 'commit', id: reservation }] });
        latencies.push(performance.now() - t);
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { admits: admit.flushes, commits: commit.flushes, failed, reads };
}

async function sqliteAdmitCommitRow(decisionRead = false): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'helm-pg-bench-'));
  const store = openSqliteStore(join(dir, 'b.db'), { groupCommit: false });
  const work = calls(N, 'sqlite-ac');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await driveAdmitCommit(store, work, 64, decisionRead);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (r.failed > 0) throw new Error(`admit + commit on SQLite: ${r.failed} calls failed`);
  return {
    latency: percentiles(),
    label: decisionRead
      ? `decision read + admit + commit, SQLite (64 in flight, ${r.reads} snapshot reads)`
      : 'admit + commit, SQLite (64 in flight)',
    calls: N,
    ms,
    cpu: { helm: (c.user + c.system) / 1000, db: 0 },
    transactions: `${r.admits} + ${r.commits}`,
  };
}

async function postgresAdmitCommitRow(admin: pg.Client, url: string, decisionRead = false): Promise<Row> {
  const schema = `bench_${randomBytes(3).toString('hex')}`;
  const tag = `bench-${schema}`;
  const store = await openPostgresStore({
    connectionString: url,
    nodeId: `${tag}-0`,
    schema,
    groupCommit: false,
    poolSize: 4,
  });
  await Promise.all(Array.from({ length: 4 }, () => store.chainHead()));
  const pids = await backends(admin, tag);
  const work = calls(N, 'pg-ac');
  const cpu0 = process.cpuUsage();
  const db0 = cpuMs(pids);
  const t0 = performance.now();
  const r = await driveAdmitCommit(store, work, 64, decisionRead);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  const db = cpuMs(pids) - db0;
  await store.close();
  if (r.failed > 0) throw new Error(`admit + commit on PostgreSQL: ${r.failed} calls failed`);
  return {
    label: decisionRead
      ? `decision read + admit + commit, PostgreSQL 1 node (64 in flight, ${r.reads} snapshot reads)`
      : 'admit + commit, PostgreSQL 1 node (64 in flight)',
    calls: N,
    ms,
    cpu: { helm: (c.user + c.system) / 1000, db },
    transactions: `${r.admits} + ${r.commits}`,
    latency: percentiles(),
  };
}

/** p50 and p99 of the latencies recorded since the last call, then forget them. */
function percentiles(): { p50: number; p99: number } {
  const sorted = latencies.splice(0).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

interface Row {
  label: string;
  calls: number;
  ms: number;
  cpu: { helm: number; db: number };
  transactions: number | string;
  latency: { p50: number; p99: number };
}

async function backends(admin: pg.Client, prefix: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1`,
    [`helm:${prefix}%`],
  );
  return rows.map((r) => r.pid);
}

async function sqliteRow(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'helm-pg-bench-'));
  const store = openSqliteStore(join(dir, 'b.db'));
  const work = calls(N, 'sqlite');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(store, work, 64);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  const flushes = store.groupFlushes;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    latency: percentiles(),
    label: 'SQLite, group commit (64 in flight)',
    calls: N,
    ms,
    cpu: { helm: (c.user + c.system) / 1000, db: 0 },
    transactions: flushes,
  };
}

async function postgresRow(
  admin: pg.Client,
  url: string,
  label: string,
  nodeCount: number,
  inFlight: number,
  groupCommit: boolean,
): Promise<Row> {
  const schema = `bench_${randomBytes(3).toString('hex')}`;
  const tag = `bench-${schema}`;
  const stores: PostgresStore[] = [];
  for (let k = 0; k < nodeCount; k++) {
    stores.push(
      await openPostgresStore({
        connectionString: url,
        nodeId: `${tag}-${k}`,
        schema,
        groupCommit,
        poolSize: 4,
      }),
    );
  }
  // Open every pooled connection now, so the backends measured are the ones that will serve.
  await Promise.all(stores.flatMap((s) => Array.from({ length: 4 }, () => s.chainHead())));
  const pids = await backends(admin, tag);
  const work = stores.map((_, k) => calls(N / nodeCount, `node-${k}`));
  const cpu0 = process.cpuUsage();
  const db0 = cpuMs(pids);
  const t0 = performance.now();
  await Promise.all(stores.map((s, k) => drive(s, work[k] as GovernedCallRecord[], inFlight)));
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  const db = cpuMs(pids) - db0;
  const transactions = groupCommit ? stores.reduce((a, s) => a + s.groupFlushes, 0) : N;
  for (const s of stores) await s.close();
  return {
    label,
    calls: N,
    ms,
    cpu: { helm: (c.user + c.system) / 1000, db },
    transactions,
    latency: percentiles(),
  };
}

/**
 * The alternative chain model: both nodes append to one shared chain. A receipt signs its
 * predecessor's hash, so each call must read the head, sign, and commit before the next can be
 * signed: no batching is possible, and a node that loses the race re-reads and re-signs.
 */
async function sharedChainRow(admin: pg.Client, url: string): Promise<Row & { conflicts: number }> {
  const schema = `bench_${randomBytes(3).toString('hex')}`;
  const tag = `bench-${schema}`;
  const stores: PostgresStore[] = [];
  for (let k = 0; k < 2; k++) {
    stores.push(
      await openPostgresStore({
        connectionString: url,
        nodeId: `${tag}-${k}`,
        schema,
        groupCommit: false,
        poolSize: 4,
      }),
    );
  }
  await Promise.all(stores.flatMap((s) => Array.from({ length: 4 }, () => s.chainHead())));
  const pids = await backends(admin, tag);
  let committed = 0;
  let conflicts = 0;
  const cpu0 = process.cpuUsage();
  const db0 = cpuMs(pids);
  const t0 = performance.now();
  await Promise.all(
    stores.map(async (s, k) => {
      let i = 0;
      while (committed < N) {
        const head = await s.chainHead('shared');
        const prev = head?.hash ?? `sha256:${'0'.repeat(64)}`;
        const lamport = (head?.lamport ?? 0) + 1;
        const envelope = signEnvelope(
          { type: 'helm.bench.receipt.v1', lamport, prev_hash: prev, node: k, i },
          [signer],
        );
        const hash = digest(fromBase64Url(envelope.payload) as Uint8Array);
        const id = `n${k}-${i++}`;
        try {
          const t = performance.now();
          await s.commitCall({
            sessionId: 'shared',
            chainId: 'shared',
            receipt: { id: `r-${id}`, lamport, prevHash: prev, hash, envelope },
            decision: { id: `d-${id}`, envelope },
            nodes: [{ id: `n-${id}`, kind: 'EFFECT', lamport, parents: [], body: { i } }],
            request: { id: `q-${id}`, body: { i } },
            idempotency: { key: `k-${id}`, value: { i } },
          });
          latencies.push(performance.now() - t);
          committed += 1;
        } catch {
          conflicts += 1;
        }
      }
    }),
  );
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  const db = cpuMs(pids) - db0;
  for (const s of stores) await s.close();
  return {
    label: 'PostgreSQL 2 nodes, ONE shared chain (head → sign → commit)',
    calls: committed,
    ms,
    cpu: { helm: (c.user + c.system) / 1000, db },
    transactions: committed + conflicts,
    latency: percentiles(),
    conflicts,
  };
}

const name = `helm_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN });
try {
  await admin.connect();
} catch (error) {
  console.error(
    `bench needs PostgreSQL at ${ADMIN} (${(error as Error).message}); start it (pg_ctlcluster <version> main start) or set HELM_BENCH_DATABASE_URL`,
  );
  process.exit(1);
}
await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
const url = new URL(ADMIN);
url.pathname = `/${name}`;
try {
  const rows = [
    await sqliteRow(),
    await postgresRow(admin, url.toString(), 'PostgreSQL 1 node, one tx per call (1 in flight)', 1, 1, false),
    await postgresRow(admin, url.toString(), 'PostgreSQL 1 node, group commit (64 in flight)', 1, 64, true),
    await postgresRow(
      admin,
      url.toString(),
      'PostgreSQL 2 nodes, own chains, group commit (64 in flight each)',
      2,
      64,
      true,
    ),
  ];
  const shared = await sharedChainRow(admin, url.toString());
  rows.push(shared);
  const base = rows[0] as Row;
  const perSec = (r: Row) => (r.calls / r.ms) * 1000;
  const perCpuSec = (r: Row) => (r.calls / (r.cpu.helm + r.cpu.db)) * 1000;
  const one = rows[2] as Row;
  console.log(
    `store commits: ${N} governed calls per row (receipt + decision + node + request + idempotency)`,
  );
  console.log(
    '| store | calls/s | vs SQLite | p50 ms | p99 ms | transactions | CPU ms (helm + postgres backends) | calls per CPU-s |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${perSec(r).toFixed(0)} | ${(perSec(r) / perSec(base)).toFixed(2)}x | ${r.latency.p50.toFixed(1)} | ${r.latency.p99.toFixed(1)} | ${r.transactions} | ${r.cpu.helm.toFixed(0)} + ${r.cpu.db.toFixed(0)} | ${perCpuSec(r).toFixed(0)} |`,
    );
  }
  const two = rows[3] as Row;
  console.log(
    `one shared chain: ${shared.conflicts} lost head races (re-read, re-signed); own chains vs shared chain: ${(perSec(two) / perSec(shared)).toFixed(1)}x calls/s`,
  );
  console.log(
    `2 nodes vs 1 node, calls per CPU-second: ${(perCpuSec(two) / perCpuSec(one)).toFixed(2)}x (DECISIONS target for the full pipeline: >= 0.9x)`,
  );
  const acSqlite = await sqliteAdmitCommitRow();
  const acPg = await postgresAdmitCommitRow(admin, url.toString());
  const dacSqlite = await sqliteAdmitCommitRow(true);
  const dacPg = await postgresAdmitCommitRow(admin, url.toString(), true);
  console.log('');
  console.log('the runtime durable path per call (admission + receipt, two transactions, batched):');
  console.log(
    '| store | calls/s | vs SQLite | p50 ms | p99 ms | transactions (admit + commit) | CPU ms (helm + postgres backends) | calls per CPU-s |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of [acSqlite, acPg, dacSqlite, dacPg]) {
    console.log(
      `| ${r.label} | ${perSec(r).toFixed(0)} | ${(perSec(r) / perSec(acSqlite)).toFixed(2)}x | ${r.latency.p50.toFixed(1)} | ${r.latency.p99.toFixed(1)} | ${r.transactions} | ${r.cpu.helm.toFixed(0)} + ${r.cpu.db.toFixed(0)} | ${perCpuSec(r).toFixed(0)} |`,
    );
  }
  console.log(
    `the decision read on the async port costs PostgreSQL ${(perSec(dacPg) / perSec(acPg)).toFixed(2)}x calls/s and ${(perCpuSec(dacPg) / perCpuSec(acPg)).toFixed(2)}x calls per CPU-second (SQLite ${(perSec(dacSqlite) / perSec(acSqlite)).toFixed(2)}x)`,
  );
  console.log(
    `targets (issue 18, full pipeline; store-level here): PostgreSQL 1 node vs SQLite ${(perSec(one) / perSec(base)).toFixed(2)}x (>= 0.4x), 2 nodes vs 1 node ${(perSec(two) / perSec(one)).toFixed(2)}x calls/s (>= 1.3x); the 2 cores are shared with the database`,
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
}
