// Gateway overhead per tools/call (issue #20 §Bench), all in one run so the ratios compare like
// with like. Run: `pnpm build && node bench/index.ts` (BENCH_N calls per series, default 300).
//
// direct:   an SDK client calls `echo` on the fixture upstream (stdio child process).
// gateway:  an SDK client calls `fx__echo` through the gateway (in-process stdio face over an
//           in-memory pair) -> governed call (guardian, PEP, signed receipt, SQLite commit) -> the
//           same kind of upstream child.
// governed: the in-process governed call alone: `runtime.execute` of the built-in echo tool in a
//           data directory of the same shape (no MCP at all).
// Reported: p50/p99 per call one at a time, calls/s, gateway-added p50 (gateway - direct) against
// the governed call's p50 (target <= 2x); and throughput with BENCH_IN_FLIGHT (default 16) calls in
// flight, gateway against direct (target >= 0.5x), with CPU ms per call of this process (the
// gateway runs in it; the upstream children do not).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveTools, McpGateway, parseGatewayConfig, serveGatewayStdio } from '@helm/mcp-gateway';
import { DataDir, GovernedRuntime, initDataDir } from '@helm/runtime';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = Math.max(20, Math.floor(N / 5));
const FIXTURE = fileURLToPath(new URL('../test/fixtures/upstream.mjs', import.meta.url));
const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const root = mkdtempSync(join(tmpdir(), 'helm-mcp-bench-'));

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

async function series(name: string, call: (i: number) => Promise<void>) {
  for (let i = 0; i < WARMUP; i++) await call(-i - 1);
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await call(i);
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const r = { name, p50: pct(times, 50), p99: pct(times, 99), perSecond: (N * 1000) / total };
  console.log(
    `${name.padEnd(9)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.perSecond.toFixed(0)} calls/s`,
  );
  return r;
}

const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 16);

/** Throughput with IN_FLIGHT calls in flight at once (N calls in all), and CPU ms per call. */
async function concurrent(name: string, call: (i: number) => Promise<void>) {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < N) await call(next++);
    }),
  );
  const total = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const r = { name, perSecond: (N * 1000) / total, cpuMs: (cpu.user + cpu.system) / 1000 / N };
  console.log(
    `${name.padEnd(9)} ${IN_FLIGHT} in flight: ${r.perSecond.toFixed(0)} calls/s, ${r.cpuMs.toFixed(2)} ms CPU/call (this process)`,
  );
  return r;
}

function home(dir: string) {
  initDataDir(dir, {
    chainId: 'bench',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'bench',
      version: 1,
      rules: [
        {
          id: 'echo',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { in: ['mcp.fx.echo', 'echo'] } },
        },
      ],
    },
    identity: [{ credential_id: 'cred-local', principal: 'local' }],
  } as never).data.close();
}

const config = parseGatewayConfig(
  {
    type: 'helm.mcp.gateway.v1',
    upstreams: { fx: { transport: 'stdio', command: process.execPath, args: [FIXTURE], cwd: root } },
    tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
  },
  root,
);

try {
  // direct
  const upstream = new Client({ name: 'bench', version: '1' }, {});
  await upstream.connect(
    new StdioClientTransport({ command: process.execPath, args: [FIXTURE], cwd: root, stderr: 'ignore' }),
  );
  const direct = await series('direct', async (i) => {
    await upstream.callTool({ name: 'echo', arguments: { text: `d${i}` } });
  });
  const directWide = await concurrent('direct', async (i) => {
    await upstream.callTool({ name: 'echo', arguments: { text: `dc${i}` } });
  });
  await upstream.close();

  // gateway
  const gwDir = join(root, 'gw');
  home(gwDir);
  const data = new DataDir(gwDir);
  await approveTools(data, config, ['fx__echo']);
  const gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const handle = serveGatewayStdio(gateway, { transport: b as never });
  const client = new Client({ name: 'bench', version: '1' }, {});
  await client.connect(a);
  const through = await series('gateway', async (i) => {
    const r = await client.callTool({ name: 'fx__echo', arguments: { text: `g${i}` } });
    if (r.isError) throw new Error(JSON.stringify(r));
  });
  // The gateway governs calls in flight concurrently (no queue in front of the runtime).
  const throughWide = await concurrent('gateway', async (i) => {
    const r = await client.callTool({ name: 'fx__echo', arguments: { text: `gc${i}` } });
    if (r.isError) throw new Error(JSON.stringify(r));
  });
  await client.close();
  await handle.close();
  await gateway.close();
  data.close();

  // governed (in-process, no MCP)
  const rtDir = join(root, 'rt');
  home(rtDir);
  const rtData = new DataDir(rtDir);
  rtData.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'read',
    risk_tier: 'LOW',
    action: 'echo',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  const rt = await GovernedRuntime.open(rtData, { clock: { now: () => Date.now() } });
  const governed = await series('governed', async (i) => {
    const r = await rt.execute({
      tool: 'echo',
      principal: 'local',
      args: { text: `r${i}` },
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-local' },
    } as never);
    if (r.status !== 'SUCCEEDED') throw new Error(r.reason_code);
  });
  await rt.close();
  rtData.close();

  const added = through.p50 - direct.p50;
  console.log(
    `gateway-added p50 ${added.toFixed(2)} ms = ${(added / governed.p50).toFixed(2)}x the governed call (target <= 2x); ` +
      `throughput ${(through.perSecond / direct.perSecond).toFixed(2)}x direct one at a time`,
  );
  console.log(
    `${IN_FLIGHT} in flight: gateway throughput ${(throughWide.perSecond / directWide.perSecond).toFixed(2)}x direct (target >= 0.5x); ` +
      `CPU per call ${(throughWide.cpuMs / directWide.cpuMs).toFixed(2)}x direct; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
