// HTTP vs in-process governed calls on the same SQLite store (issue #19 bench): durable calls/s and
// p50/p99 latency through `helmts serve` (autocannon, 64 keep-alive connections) against the same
// calls made directly on a GovernedRuntime in this process. The ratio is the figure to read: the
// absolute rates depend on the machine's load. Run: pnpm build && node bench/index.ts
// (BENCH_N calls per side, default 2000.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDir, GovernedRuntime } from '@helm/runtime';
import autocannon from 'autocannon';
import { initCommand, toolRegister } from '../../cli/dist/commands/index.js';
import { createApiKey, startHelmServer } from '../dist/index.js';

const N = Number(process.env.BENCH_N ?? 2000);
const root = mkdtempSync(join(tmpdir(), 'helm-serve-bench-'));

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
  data.close();
  return dir;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function inProcess(dir: string) {
  const data = new DataDir(dir);
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  const config = data.config();
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
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
  const ms = performance.now() - t0;
  await rt.close();
  data.close();
  lat.sort((a, b) => a - b);
  return { rate: (N * 1000) / ms, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function overHttp(dir: string) {
  const data = new DataDir(dir);
  const { key } = createApiKey(data, { principal: 'local', scopes: ['call'] });
  data.close();
  const server = await startHelmServer({ dataDir: dir, rateLimit: { rate: 0 } });
  const result = await autocannon({
    url: `${server.url}/v1/calls`,
    method: 'POST',
    connections: 64,
    amount: N,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'echo', args: { x: 1 } }),
  });
  await server.close();
  if (result.non2xx !== 0 || result.errors !== 0)
    throw new Error(`HTTP errors: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const seconds = result.duration;
  return { rate: result['2xx'] / seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

try {
  // Both sides on the same store file: in-process first, then the server appends to the same chain.
  const dir = await home('same');
  const a = await inProcess(dir);
  const b = await overHttp(dir);
  const row = (label: string, r: { rate: number; p50: number; p99: number }) =>
    `| ${label} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`;
  console.log(`N=${N} calls per side, SQLite store, 64 keep-alive connections for HTTP`);
  console.log('| path | calls/s | p50 ms | p99 ms |');
  console.log('| --- | --- | --- | --- |');
  console.log(row('in-process (GovernedRuntime.execute, sequential)', a));
  console.log(row('HTTP (helmts serve, autocannon)', b));
  console.log(`HTTP / in-process throughput: ${(b.rate / a.rate).toFixed(2)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
