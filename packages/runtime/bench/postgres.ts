// Durable governed calls on PostgreSQL (#18), every row measured in the same run and reported as a
// ratio: the in-memory pipeline, the runtime on SQLite (group commit), the runtime on PostgreSQL
// with 1 node and with 2 nodes (each node its own OS process: bench/pg-worker.ts, its own chain,
// one shared database) — calls/s, p50/p99 per call, and calls per CPU-second with the CPU split
// between the HELM processes and the PostgreSQL backends serving them (/proc utime+stime; the
// machine's 2 cores are shared by all of them, so the CPU view is the one that transfers).
// Run: `pnpm build && node bench/postgres.ts` in packages/runtime (BENCH_N calls per node, default
// 2000; HELM_BENCH_DATABASE_URL / HELM_TEST_DATABASE_URL name a server whose user may CREATE DATABASE).
// BENCH_QUERY_LOG=1: each node prints to stderr the statements it sent per call in the measured run.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgresStore } from '@helm/store-postgres';
// The test harness's fresh-database helper (it brings `pg`, a dependency of @helm/store-postgres).
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { DataDir, GovernedRuntime, publishTrustRegistry } from '../dist/index.js';
import { benchDataDir, drive, FINGERPRINT, fmt, inMemoryPipeline } from './common.ts';

const N = Number(process.env.BENCH_N ?? 2000);
const IN_FLIGHT = 64;
const WORKER = fileURLToPath(new URL('./pg-worker.ts', import.meta.url));
const TICK_MS = 10; // USER_HZ = 100 on Linux

type Row = { perSec: number; p50: number; p99: number; helmCpuMs: number; dbCpuMs: number; calls: number };

const call = (i: number) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

/** CPU milliseconds of these processes so far (utime + stime from /proc), by pid. */
function cpuOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      out.set(pid, (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      // gone
    }
  }
  return out;
}

const root = mkdtempSync(join(tmpdir(), 'helm-rt-pgbench-'));
if (process.env.HELM_BENCH_DATABASE_URL)
  process.env.HELM_TEST_DATABASE_URL = process.env.HELM_BENCH_DATABASE_URL;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
try {
  db = await createTestDatabase('bench_rt');
} catch (error) {
  console.error(`bench needs PostgreSQL: ${(error as Error).message}`);
  process.exit(1);
}
const { url, name } = db;
const admin = await raw(url);

/** Backend pids serving the bench database now. */
async function backends(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
    name,
  ]);
  return rows.map((r) => Number(r.pid));
}

function template(): string {
  const dir = join(root, 'template');
  benchDataDir(dir, 'template');
  return dir;
}

function node(from: string, chain: string, keepDb = false): string {
  const dir = join(root, chain);
  cpSync(from, dir, { recursive: true });
  if (!keepDb) rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: chain });
  return dir;
}

async function inProcess(run: (i: number) => Promise<void>): Promise<Row> {
  await drive(Math.max(64, N >> 2), IN_FLIGHT, (i) => run(-1 - i)); // warm-up
  const c0 = process.cpuUsage();
  const r = await drive(N, IN_FLIGHT, run);
  const c = process.cpuUsage(c0);
  return { ...r, helmCpuMs: (c.user + c.system) / 1000, dbCpuMs: 0, calls: N };
}

/** `chains.length` node processes at once, N calls each; wall-clock calls/s over all of them. */
async function postgresNodes(tpl: string, chains: readonly string[]): Promise<Row> {
  const workers = chains.map((chain) => {
    const child = spawn(
      process.execPath,
      [WORKER, JSON.stringify({ url, dir: node(tpl, chain), n: N, inFlight: IN_FLIGHT })],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines: Record<string, number | boolean>[] = [];
    const waiters: (() => void)[] = [];
    let buf = '';
    child.stdout.on('data', (chunk) => {
      buf += String(chunk);
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      for (const w of waiters.splice(0)) w();
    });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const line = async (k: number) => {
      while (lines.length <= k) {
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          void exited.then(() => reject(new Error(`bench node ${chain} exited`)));
        });
      }
      return lines[k] as Record<string, number>;
    };
    return { child, line, exited };
  });
  for (const w of workers) await w.line(0); // ready (warmed up)
  const pids = await backends();
  const db0 = cpuOf(pids);
  const t0 = performance.now();
  for (const w of workers) w.child.stdin.write('go\n');
  const results = await Promise.all(workers.map((w) => w.line(1)));
  const wall = performance.now() - t0;
  const db1 = cpuOf(await backends());
  let dbCpuMs = 0;
  for (const [pid, ms] of db1) dbCpuMs += ms - (db0.get(pid) ?? 0);
  for (const w of workers) w.child.stdin.end();
  await Promise.all(workers.map((w) => w.exited));
  const calls = N * chains.length;
  return {
    perSec: (calls / wall) * 1000,
    // p50/p99 per call: the worst node's (each node's own distribution).
    p50: Math.max(...results.map((r) => r.p50 as number)),
    p99: Math.max(...results.map((r) => r.p99 as number)),
    helmCpuMs: results.reduce((t, r) => t + (r.cpuMs as number), 0),
    dbCpuMs,
    calls,
  };
}

const line = (label: string, r: Row) => {
  const cpu = r.helmCpuMs + r.dbCpuMs;
  return (
    `${label}: ${fmt(r.perSec, 0)} calls/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms; ` +
    `${fmt((r.calls / cpu) * 1000, 0)} calls per CPU-second (HELM ${fmt(r.helmCpuMs / r.calls, 3)} + PostgreSQL ${fmt(r.dbCpuMs / r.calls, 3)} CPU ms/call)`
  );
};

try {
  const tpl = template();
  // The migrating step and the registry, once (the nodes serve without DDL).
  const setup = await openPostgresStore({ connectionString: url, nodeId: 'setup', groupCommit: false });
  await publishTrustRegistry(new DataDir(tpl), setup);
  await setup.close();

  const executor = inMemoryPipeline();
  const mem = await inProcess(async (i) => {
    const r = await executor.execute(call(i));
    if (r.status !== 'SUCCEEDED') throw new Error(`in-memory: ${r.reason_code}`);
  });
  const sqliteDir = node(tpl, 'sqlite', true);
  const data = new DataDir(sqliteDir);
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  let sqlite: Row;
  try {
    sqlite = await inProcess(async (i) => {
      const r = await rt.execute(call(i));
      if (r.status !== 'SUCCEEDED') throw new Error(`sqlite: ${r.reason_code}`);
    });
  } finally {
    await rt.close();
    data.close();
  }
  const one = await postgresNodes(tpl, ['pg-1']);
  const two = await postgresNodes(tpl, ['pg-2a', 'pg-2b']);
  const perCpu = (r: Row) => (r.calls / (r.helmCpuMs + r.dbCpuMs)) * 1000;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`durable governed calls, ${IN_FLIGHT} in flight per node, ${N} calls per node (load ${load})`);
  console.log(`  ${line('in-memory pipeline', mem)}`);
  console.log(`  ${line('runtime + SQLite (group commit)', sqlite)}`);
  console.log(`  ${line('runtime + PostgreSQL, 1 node (1 process)', one)}`);
  console.log(`  ${line('runtime + PostgreSQL, 2 nodes (2 processes)', two)}`);
  console.log(
    `  ratios: SQLite/in-memory ${fmt(sqlite.perSec / mem.perSec)}x (target >= 0.6); PostgreSQL 1 node/SQLite ${fmt(one.perSec / sqlite.perSec)}x calls/s (target >= 0.4); ` +
      `2 nodes/1 node ${fmt(two.perSec / one.perSec)}x calls/s, ${fmt(perCpu(two) / perCpu(one))}x calls per CPU-second (DECISIONS target >= 0.9)`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
  await admin.end();
  await db.drop();
}
