// HTTP vs in-process governed calls on SQLite stores of the same shape (issue #19 bench): durable calls/s and
// p50/p99 latency through `helmts serve` (autocannon, 64 keep-alive connections) against the same
// calls made directly on a GovernedRuntime in this process, one at a time and 64 in flight (the
// runtime takes any number of calls in flight, I-CONC-1, and the server no longer queues them).
// The ratios are the figures to read: the absolute rates depend on the machine's load. CPU time
// per call (process.cpuUsage: this process only, the load generator included on the HTTP side) is
// reported next to wall time, since the machine is shared. Run: pnpm build && node bench/index.ts
// (BENCH_N calls per side, default 2000; BENCH_RUNS runs, best of them reported, default 1.)
// BENCH_STORE=postgres runs both sides on a shared PostgreSQL database instead (a fresh database on
// HELM_BENCH_DATABASE_URL / HELM_TEST_DATABASE_URL / 127.0.0.1:5432) per side — one database for
// all would run the shared principal budget out, as one directory would on SQLite — each side's
// node attached as `helmts serve --database-url` attaches it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachDatabase, DataDir, GovernedRuntime, migrateDatabase, publishTrust } from '@helm/runtime';
import autocannon from 'autocannon';
import { initCommand, toolRegister } from '../../cli/dist/commands/index.js';
import { createApiKey, startHelmServer } from '../dist/index.js';

const N = Number(process.env.BENCH_N ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const CONCURRENCY = 64;
const root = mkdtempSync(join(tmpdir(), 'helm-serve-bench-'));
const POSTGRES = process.env.BENCH_STORE === 'postgres';
if (process.env.HELM_BENCH_DATABASE_URL)
  process.env.HELM_TEST_DATABASE_URL = process.env.HELM_BENCH_DATABASE_URL;
const harness = POSTGRES ? await import('../../../packages/store-postgres/test/harness.ts') : undefined;
/** The database of each data directory in a PostgreSQL run: fresh, migrated, dropped at the end. */
const databases = new Map<string, { url: string; drop(): Promise<void> }>();

async function home(name: string): Promise<string> {
  const dir = join(root, name);
  initCommand(dir);
  const data = new DataDir(dir);
  const file = join(root, `${name}-echo.json`);
  writeFileSync(
    file,
    JSON.stringify({
      type: 'helm.tool.v1',
      name: 'echo',
      description: 'echo',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'echo',
      driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
    }),
  );
  await toolRegister(data, file, undefined);
  if (harness) {
    // The init budgets (1000 per principal per hour) would end a run of more calls: lifted.
    const config = data.config();
    data.writeConfig({
      ...config,
      budgets: { ...config.budgets, default_principal_max: 1e12, default_tenant_max: 1e12 },
    });
    const db = await harness.createTestDatabase(`serve_bench_${name.replace(/-/g, '_')}`);
    databases.set(dir, db);
    await migrateDatabase({ url: db.url });
    await publishTrust(data, { url: db.url });
  }
  data.close();
  if (harness) rmSync(join(dir, 'helm.db'), { force: true });
  return dir;
}

/** The node's data directory, on its database in a PostgreSQL run. */
async function node(dir: string): Promise<DataDir> {
  const data = new DataDir(dir);
  const db = databases.get(dir);
  if (db) await attachDatabase(data, { url: db.url });
  return data;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Row {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU milliseconds of this process per call. */
  readonly cpu: number;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** `inFlight` calls at a time (1 = sequential), N in all, on the runtime in this process. */
async function inProcess(dir: string, inFlight: number): Promise<Row> {
  const data = await node(dir);
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  const config = data.config();
  const lat: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < N) {
      next++;
      const s = performance.now();
      const r = await rt.execute({
        tool: 'echo',
        principal: 'local',
        args: { x: 1 },
        context: { environment_fingerprint: config.environment_fingerprint, credential_id: 'cred-local' },
      } as never);
      if (r.status !== 'SUCCEEDED') throw new Error(`in-process call ${r.reason_code}`);
      lat.push(performance.now() - s);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  await rt.close();
  await data.closeAll();
  lat.sort((a, b) => a - b);
  return { rate: (N * 1000) / ms, p50: pct(lat, 50), p99: pct(lat, 99), cpu: cpu / N };
}

async function overHttp(dir: string): Promise<Row> {
  const data = await node(dir);
  const db = databases.get(dir);
  const { key } = await createApiKey(data, {
    principal: 'local',
    scopes: ['call'],
    // On a database the key names its credential (the bindings are not looked up there).
    ...(db ? { credential: 'cred-local' } : {}),
  });
  await data.closeAll();
  const server = await startHelmServer({
    dataDir: dir,
    rateLimit: { rate: 0 },
    ...(db ? { database: { url: db.url } } : {}),
  });
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url: `${server.url}/v1/calls`,
    method: 'POST',
    connections: CONCURRENCY,
    // A loaded shared machine: a slow answer is a slow answer, not an error.
    timeout: 120,
    amount: N,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'echo', args: { x: 1 } }),
  });
  const cpu = cpuMs(cpu0);
  await server.close();
  if (result.non2xx !== 0 || result.errors !== 0)
    throw new Error(
      `HTTP errors: ${result.non2xx} non-2xx, ${result.errors} errors (${result.timeouts} timeouts)`,
    );
  const seconds = result.duration;
  return {
    rate: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpu: cpu / result['2xx'],
  };
}

const best = (rows: Row[]): Row => rows.reduce((a, b) => (b.rate > a.rate ? b : a));

try {
  // Each side on a fresh SQLite data directory of the same shape (one directory for all would
  // run into the default principal budget after a few thousand calls).
  const runs: { seq: Row[]; conc: Row[]; http: Row[] } = { seq: [], conc: [], http: [] };
  const load0 = loadavg();
  for (let r = 0; r < RUNS; r++) {
    runs.seq.push(await inProcess(await home(`seq-${r}`), 1));
    runs.conc.push(await inProcess(await home(`conc-${r}`), CONCURRENCY));
    runs.http.push(await overHttp(await home(`http-${r}`)));
  }
  const [a, c, b] = [best(runs.seq), best(runs.conc), best(runs.http)];
  const row = (label: string, r: Row) =>
    `| ${label} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpu.toFixed(2)} |`;
  console.log(
    `N=${N} calls per side, best of ${RUNS}, ${POSTGRES ? 'PostgreSQL (a database per side, attached as serve --database-url does)' : 'SQLite'} store, ${CONCURRENCY} in flight / keep-alive connections; ` +
      `load average ${load0.map((l) => l.toFixed(2)).join(' ')} -> ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log('| path | calls/s | p50 ms | p99 ms | CPU ms/call |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row('in-process (GovernedRuntime.execute, sequential)', a));
  console.log(row(`in-process (GovernedRuntime.execute, ${CONCURRENCY} in flight)`, c));
  console.log(row(`HTTP (helmts serve, autocannon, ${CONCURRENCY} connections)`, b));
  console.log(
    `HTTP / in-process sequential: throughput ${(b.rate / a.rate).toFixed(2)}, CPU per call ${(b.cpu / a.cpu).toFixed(2)}`,
  );
  console.log(
    `HTTP / in-process ${CONCURRENCY} in flight: throughput ${(b.rate / c.rate).toFixed(2)}, CPU per call ${(b.cpu / c.cpu).toFixed(2)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
  for (const db of databases.values()) await db.drop();
}
