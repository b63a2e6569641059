// One runtime node process of the PostgreSQL bench (bench/postgres.ts): the BUILT runtime on its data
// directory attached to the shared database. Warms up, prints {"ready":true}, waits for "go" on
// stdin, runs `n` governed echo calls with `inFlight` outstanding, prints calls/s, p50/p99 and its
// own CPU milliseconds, then stays open (its connections alive for the parent's CPU reading of the
// database backends) until stdin ends.
import { createRequire } from 'node:module';
import { attachDatabase, DataDir, GovernedRuntime } from '../dist/index.js';
import { drive, FINGERPRINT } from './common.ts';

// BENCH_QUERY_LOG=1: count the statements (each one round trip: `pg` sends a client's next query
// only once the previous one completed) this node sends during the measured run, by text, and
// print them per call to stderr — the round-trip profile of a governed call.
const queryCounts = new Map<string, number>();
let counting = false;
if (process.env.BENCH_QUERY_LOG) {
  const pg = createRequire(createRequire(import.meta.url).resolve('@helm/store-postgres'))('pg') as {
    Client: { prototype: { query: (...args: unknown[]) => unknown } };
  };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    if (counting) {
      const a = args[0] as string | { text?: string };
      const text = (typeof a === 'string' ? a : (a?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 110);
      queryCounts.set(text, (queryCounts.get(text) ?? 0) + 1);
    }
    return query.apply(this, args);
  };
}

const job = JSON.parse(process.argv[2] as string) as {
  url: string;
  dir: string;
  n: number;
  inFlight: number;
};
const data = new DataDir(job.dir);
await attachDatabase(data, { url: job.url });
const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
const one = async (i: number) => {
  const r = await rt.execute({
    tool: 'echo',
    principal: 'alice',
    args: { i } as never,
    context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  });
  if (r.status !== 'SUCCEEDED') throw new Error(`${r.reason_code}: ${r.message}`);
};
await drive(Math.max(64, job.n >> 2), job.inFlight, (i) => one(-1 - i)); // warm-up
const lines = process.stdin.setEncoding('utf8');
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await new Promise<void>((resolve) => lines.once('data', () => resolve()));
const c0 = process.cpuUsage();
counting = true;
const r = await drive(job.n, job.inFlight, one);
counting = false;
const c = process.cpuUsage(c0);
if (process.env.BENCH_QUERY_LOG) {
  const total = [...queryCounts.values()].reduce((t, n) => t + n, 0);
  const rows = [...queryCounts].sort((a, b) => b[1] - a[1]);
  process.stderr.write(`[${job.dir}] ${(total / job.n).toFixed(2)} statements per call\n`);
  for (const [text, n] of rows) process.stderr.write(`  ${(n / job.n).toFixed(3)}  ${text}\n`);
}
process.stdout.write(`${JSON.stringify({ ...r, cpuMs: (c.user + c.system) / 1000 })}\n`);
await new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.resume();
});
await rt.close();
await data.closeAll();
