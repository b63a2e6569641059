// Where a durable governed call's time goes: a CPU profile (node:inspector) of BENCH_N calls (default
// 2000) with 64 in flight through GovernedRuntime over SQLite — the durable side of
// `pnpm --filter @helm/runtime bench` row 1 (which measures the ratio against the in-memory pipeline;
// this script explains it). Prints calls/s and the functions with the most self time, grouped by the
// package their code comes from.
// Run: `pnpm build && node bench/durable-profile.ts` (here, apps/cli). BENCH_TOP (default 25) rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDir, GovernedRuntime, initDataDir } from '@helm/runtime';

const N = Number(process.env.BENCH_N ?? 2000);
const TOP = Number(process.env.BENCH_TOP ?? 25);
const IN_FLIGHT = 64;
const work = mkdtempSync(join(tmpdir(), 'helm-durable-profile-'));
const dir = join(work, 'home');
{
  const { data } = initDataDir(dir, {
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'bench',
      forbidden_effect_types: [],
      budgets: { default_principal_max: 1e12, default_tenant_max: 1e12 },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object', properties: { k: { type: 'integer' } }, additionalProperties: false },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'echo',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
  } as never);
  data.close();
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const data = new DataDir(dir);
const fingerprint = data.config().environment_fingerprint;
const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
let next = 0;
async function drive(total: number): Promise<number> {
  const end = next + total;
  const t0 = performance.now();
  const worker = async () => {
    while (next < end) {
      const i = next++;
      const r = await rt.execute({
        tool: 'echo',
        principal: 'local',
        args: { k: i },
        context: { environment_fingerprint: fingerprint, credential_id: 'cred-local' },
      } as never);
      if (r.status !== 'SUCCEEDED') throw new Error(`call ${i}: ${r.reason_code}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return (total / (performance.now() - t0)) * 1000;
}

await drive(N); // warm-up
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
await session.post('Profiler.start');
const cpu0 = process.cpuUsage();
const perSec = await drive(N);
const cpu = process.cpuUsage(cpu0);
const { profile } = (await session.post('Profiler.stop')) as unknown as {
  profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] };
};
session.disconnect();
await rt.close();
data.close();
rmSync(work, { recursive: true, force: true });

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i] as number) as Node;
  const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  total += ms;
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(packages|apps|node_modules\/\.pnpm)\//, '');
  const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + ms);
  const pkg =
    /\/packages\/([^/]+)\//.exec(url)?.[1] ??
    /node_modules\/\.pnpm\/([^/]+)\//.exec(url)?.[1]?.replace(/@[^@]*$/, '') ??
    (url.startsWith('node:') ? 'node' : functionName.startsWith('(') ? functionName : 'native');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
}
const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)} %`;
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${N} durable calls, ${IN_FLIGHT} in flight: ${perSec.toFixed(0)}/s, ` +
    `${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms CPU per call`,
);
console.log('self time by package:');
for (const [pkg, ms] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${pct(ms)}  ${pkg}`);
console.log(`top ${TOP} functions by self time:`);
for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP))
  console.log(`  ${pct(ms)}  ${key}`);
