// Gateway overhead per tools/call (issue #20 §Bench), all in one run so the ratios compare like
// with like. Run: `pnpm build && node bench/index.ts` (BENCH_N calls per series, default 300;
// BENCH_IN_FLIGHT calls in flight for the wide rows, default 64).
//
// Faces, each against the same kind of upstream process (its CPU is never counted):
//   stdio  direct:  an SDK client calls `echo` on the fixture upstream (stdio child process).
//          gateway: an SDK client calls `fx__echo` through the gateway's stdio face (in-process,
//                   over an in-memory pair: one session) -> governed call (guardian, PEP, signed
//                   receipt, SQLite commit) -> the same kind of stdio child.
//   http   direct:  SDK clients call `echo` on the fixture upstream served over Streamable HTTP
//                   (a child process).
//          gateway: SDK clients call through the gateway's HTTP face (in-process, node:http,
//                   bearer token; each client its own sealed session, handed back on every call)
//                   -> governed call -> the same kind of HTTP child.
//   governed:       the in-process governed call alone: `runtime.execute` of the built-in echo
//                   tool in a data directory of the same shape (no MCP at all) — the floor.
// Each series runs one call at a time, then BENCH_IN_FLIGHT at once (on HTTP spread over
// HTTP_CLIENTS clients, i.e. sessions, several in flight each). Reported per row: p50/p99 of a
// call, calls/s, and CPU ms per call of this process (where the gateway and the clients run),
// plus how many calls each SQLite transaction carried (admissions and receipts are group-committed
// by the runtime: the bench counts the store's transactions by wrapping two methods of its
// instance). Targets: gateway-added p50 <= 2x the governed call; throughput >= 0.5x direct.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  approveTools,
  type GatewayConfig,
  gatewayHttpHandler,
  McpGateway,
  nodeListener,
  parseGatewayConfig,
  SESSION_META,
  serveGatewayStdio,
} from '@helm/mcp-gateway';
import { DataDir, GovernedRuntime, initDataDir } from '@helm/runtime';
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = Math.max(20, Math.floor(N / 5));
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const HTTP_CLIENTS = Math.min(IN_FLIGHT, 16);
const FIXTURE = fileURLToPath(new URL('../test/fixtures/upstream.mjs', import.meta.url));
const HTTP_FIXTURE = fileURLToPath(new URL('./http-upstream.mjs', import.meta.url));
const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const TOKEN = 'bench-token-0123456789abcdef';
const root = mkdtempSync(join(tmpdir(), 'helm-mcp-bench-'));
const cleanup: (() => Promise<void> | void)[] = [];

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

interface Row {
  readonly name: string;
  readonly inFlight: number;
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
  readonly cpuMs: number;
  readonly perTx?: string;
}
const rows: Row[] = [];

/** Transactions counted on a store instance (admissions and receipt commits, calls per batch). */
function countTransactions(data: DataDir) {
  const store = data.store as unknown as Record<string, (items: unknown[]) => unknown>;
  const counts = { tx: 0, items: 0 };
  for (const method of ['admitCalls', 'commitCalls']) {
    const original = store[method] as (items: unknown[]) => unknown;
    store[method] = (items: unknown[]) => {
      counts.tx += 1;
      counts.items += items.length;
      return original.call(data.store, items);
    };
  }
  return {
    reset: () => Object.assign(counts, { tx: 0, items: 0 }),
    perTx: () => (counts.tx === 0 ? '-' : (counts.items / counts.tx).toFixed(1)),
  };
}

/**
 * `call(i, worker)` N times with `inFlight` in flight (after a warm-up of the same shape):
 * latency percentiles, calls/s and this process's CPU per call.
 */
async function drive(
  name: string,
  inFlight: number,
  call: (i: number, worker: number) => Promise<void>,
  tx?: ReturnType<typeof countTransactions>,
): Promise<Row> {
  const run = async (total: number, offset: number) => {
    const times: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async (_, worker) => {
        while (next < total) {
          const i = next++;
          const t = performance.now();
          await call(offset + i, worker);
          times.push(performance.now() - t);
        }
      }),
    );
    return times;
  };
  await run(WARMUP, 1_000_000);
  tx?.reset();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const times = await run(N, 0);
  const total = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const row: Row = {
    name,
    inFlight,
    p50: pct(times, 50),
    p99: pct(times, 99),
    perSecond: (N * 1000) / total,
    cpuMs: (cpu.user + cpu.system) / 1000 / N,
    ...(tx ? { perTx: tx.perTx() } : {}),
  };
  rows.push(row);
  console.log(
    `${name.padEnd(15)} ${String(inFlight).padStart(3)} in flight  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms  ` +
      `${row.perSecond.toFixed(0)} calls/s  ${row.cpuMs.toFixed(3)} ms CPU/call${row.perTx ? `  ${row.perTx} calls/transaction` : ''}`,
  );
  return row;
}

function home(dir: string) {
  initDataDir(dir, {
    chainId: 'bench',
    fingerprint: FINGERPRINT,
    // No budget ceiling in the way of the bench's thousands of calls.
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'bench',
      forbidden_effect_types: [],
      budgets: { default_principal_max: 1e12, default_tenant_max: 1e12 },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
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

/** The fixture upstream over HTTP in a child process; its URL. */
async function httpUpstream(): Promise<string> {
  const child: ChildProcess = spawn(process.execPath, [HTTP_FIXTURE], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanup.push(() => {
    child.stdin?.end();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the HTTP upstream exited ${code}`)));
  });
}

async function httpClient(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' }, {});
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      ...(token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {}),
    }),
  );
  cleanup.push(() => client.close());
  return client;
}

async function openGateway(name: string, config: GatewayConfig) {
  const dir = join(root, name);
  home(dir);
  const data = new DataDir(dir);
  await approveTools(data, config, ['fx__echo']);
  const gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  const tx = countTransactions(data);
  cleanup.push(async () => {
    await gateway.close();
    data.close();
  });
  return { gateway, tx };
}

const gatewayConfig = (upstream: Record<string, unknown>) =>
  parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      upstreams: { fx: upstream },
      tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
    },
    root,
  );

const ok = (r: { isError?: unknown }) => {
  if (r.isError) throw new Error(JSON.stringify(r));
};

try {
  // ---- stdio ----
  const upstream = new Client({ name: 'bench', version: '1' }, {});
  await upstream.connect(
    new StdioClientTransport({ command: process.execPath, args: [FIXTURE], cwd: root, stderr: 'ignore' }),
  );
  cleanup.push(() => upstream.close());
  const directCall = async (i: number) => {
    await upstream.callTool({ name: 'echo', arguments: { text: `d${i}` } });
  };
  const stdioDirect1 = await drive('stdio direct', 1, directCall);
  const stdioDirectW = await drive('stdio direct', IN_FLIGHT, directCall);

  const stdioGw = await openGateway(
    'gw-stdio',
    gatewayConfig({ transport: 'stdio', command: process.execPath, args: [FIXTURE], cwd: root }),
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  const face = serveGatewayStdio(stdioGw.gateway, { transport: b as never });
  cleanup.push(() => face.close());
  const client = new Client({ name: 'bench', version: '1' }, {});
  await client.connect(a);
  cleanup.push(() => client.close());
  const gatewayCall = async (i: number) => {
    ok(await client.callTool({ name: 'fx__echo', arguments: { text: `g${i}` } }));
  };
  const stdioGw1 = await drive('stdio gateway', 1, gatewayCall, stdioGw.tx);
  const stdioGwW = await drive('stdio gateway', IN_FLIGHT, gatewayCall, stdioGw.tx);

  // ---- Streamable HTTP ----
  const upstreamUrl = await httpUpstream();
  const direct = await Promise.all(Array.from({ length: HTTP_CLIENTS }, () => httpClient(upstreamUrl)));
  const httpDirectCall = async (i: number, w: number) => {
    await (direct[w % HTTP_CLIENTS] as Client).callTool({ name: 'echo', arguments: { text: `h${i}` } });
  };
  const httpDirect1 = await drive('http direct', 1, httpDirectCall);
  const httpDirectW = await drive('http direct', IN_FLIGHT, httpDirectCall);

  const httpGw = await openGateway('gw-http', gatewayConfig({ transport: 'http', url: upstreamUrl }));
  const server = createServer(nodeListener(gatewayHttpHandler(httpGw.gateway, { bearerToken: TOKEN })));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const faceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const clients = await Promise.all(Array.from({ length: HTTP_CLIENTS }, () => httpClient(faceUrl, TOKEN)));
  // Each client is one sealed session: it hands back the handle its first result carried.
  const sessions: (string | undefined)[] = [];
  const httpGatewayCall = async (i: number, w: number) => {
    const c = w % HTTP_CLIENTS;
    const handle = sessions[c];
    const r = await (clients[c] as Client).callTool({
      name: 'fx__echo',
      arguments: { text: `hg${i}` },
      ...(handle ? { _meta: { [SESSION_META]: handle } } : {}),
    });
    ok(r);
    sessions[c] ??= (r._meta as Record<string, string> | undefined)?.[SESSION_META];
  };
  const httpGw1 = await drive('http gateway', 1, httpGatewayCall, httpGw.tx);
  const httpGwW = await drive('http gateway', IN_FLIGHT, httpGatewayCall, httpGw.tx);

  // ---- governed (in-process, no MCP) ----
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
  cleanup.push(async () => {
    await rt.close();
    rtData.close();
  });
  const rtTx = countTransactions(rtData);
  const governedCall = async (i: number) => {
    const r = await rt.execute({
      tool: 'echo',
      principal: 'local',
      args: { text: `r${i}` },
      context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-local' },
    } as never);
    if (r.status !== 'SUCCEEDED') throw new Error(r.reason_code);
  };
  const governed1 = await drive('governed', 1, governedCall, rtTx);
  const governedW = await drive('governed', IN_FLIGHT, governedCall, rtTx);

  const x = (n: number) => `${n.toFixed(2)}x`;
  console.log('');
  for (const [face, d1, dW, g1, gW] of [
    ['stdio', stdioDirect1, stdioDirectW, stdioGw1, stdioGwW],
    ['http', httpDirect1, httpDirectW, httpGw1, httpGwW],
  ] as const) {
    const added = g1.p50 - d1.p50;
    console.log(
      `${face}: gateway-added p50 ${added.toFixed(2)} ms = ${x(added / governed1.p50)} the governed call (target <= 2x); ` +
        `throughput 1 in flight ${x(g1.perSecond / d1.perSecond)} direct, ${IN_FLIGHT} in flight ${x(gW.perSecond / dW.perSecond)} direct (target >= 0.5x); ` +
        `CPU/call ${IN_FLIGHT} in flight: gateway ${gW.cpuMs.toFixed(3)} ms = governed ${governedW.cpuMs.toFixed(3)} + MCP and gateway ${(gW.cpuMs - governedW.cpuMs).toFixed(3)}; direct ${dW.cpuMs.toFixed(3)} ms`,
    );
  }
  // The floor: one core of this process can do at most 1000 / (CPU ms per call) gateway calls/s.
  console.log(
    `floor: the governed call alone, ${IN_FLIGHT} in flight, ${governedW.perSecond.toFixed(0)} calls/s = ` +
      `${x(governedW.perSecond / stdioDirectW.perSecond)} stdio direct, ${x(governedW.perSecond / httpDirectW.perSecond)} http direct; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  // Last opened, first closed (clients before the gateway they reach, gateways before upstreams).
  for (const step of cleanup.reverse())
    await Promise.resolve()
      .then(step)
      .catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}
