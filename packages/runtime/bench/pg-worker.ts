// One runtime node process of the PostgreSQL bench (bench/postgres.ts): the BUILT runtime on its data
// directory attached to the shared database. Warms up, prints {"ready":true}, waits for "go" on
// stdin, runs `n` governed echo calls with `inFlight` outstanding, prints calls/s, p50/p99 and its
// own CPU milliseconds, then stays open (its connections alive for the parent's CPU reading of the
// database backends) until stdin ends.
import { attachDatabase, DataDir, GovernedRuntime } from '../dist/index.js';
import { drive, FINGERPRINT } from './common.ts';

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
const r = await drive(job.n, job.inFlight, one);
const c = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ ...r, cpuMs: (c.user + c.system) / 1000 })}\n`);
await new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.resume();
});
await rt.close();
await data.closeAll();
