// `helmts` start-up, as a user's shell sees it: one `helmts run` (one decision, its signed receipt
// committed) against `node -e 0`, both measured in this run, interleaved, median of N. Also
// `helmts --version` (loading the CLI and nothing else) and, for a breakdown, the same with the
// unbundled build (HELM_CLI_UNBUNDLED=1), without any cache (HELMTS_NO_CODE_CACHE=1 and
// NODE_DISABLE_COMPILE_CACHE=1), and the first run with an empty code cache (each of its runs gets a
// fresh XDG_CACHE_HOME; its CPU is read by the preload's exit handler, which runs before the loader
// writes the cache, so the write shows in its wall time only). Every other process shares one code
// cache in this run's own XDG_CACHE_HOME, warmed by the first run of each row.
// Run: `pnpm build && pnpm --filter @helm/cli bench`. BENCH_REPS (default 11) runs per row;
// BENCH_SIZES (default 0,1000) receipts already stored before the measured runs (the issue's curve is
// 0,1000,10000,100000; filling 100k takes minutes). BENCH_COMPARE=<label>=<dir>/bin.cjs[,…] adds a
// `run` row for each other build of the CLI, measured interleaved in the same run: e.g. the previous
// commit's dist/bin.cjs and dist/bundle/ copied to a sibling of dist/ (apps/cli/dist-before/), without
// bundle/inputs.json — the layout of an installed package, which skips the source checkout's
// bundle-staleness check (see README.md).
//
// Wall time is reported with CPU time (user+sys of the child, read by a preload in both the
// baseline and the CLI) because the machine is shared: wall ratios move with the load average,
// CPU ratios much less. The load average is printed with the result.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDir, GovernedRuntime, initDataDir } from '@helm/runtime';

const BIN = fileURLToPath(new URL('../dist/bin.cjs', import.meta.url));
// The same build in an installed package's layout: bin.cjs and bundle/ without bundle/inputs.json
// (not published), so no staleness check — what a user's `helmts` runs. A sibling of dist/, so the
// bundle's relative paths resolve as from dist/; removed at exit.
const INSTALLED = fileURLToPath(new URL('../.bench-installed/', import.meta.url));
rmSync(INSTALLED, { recursive: true, force: true });
cpSync(fileURLToPath(new URL('../dist/bundle/', import.meta.url)), join(INSTALLED, 'bundle'), {
  recursive: true,
});
cpSync(BIN, join(INSTALLED, 'bin.cjs'));
cpSync(fileURLToPath(new URL('../dist/code-cache.cjs', import.meta.url)), join(INSTALLED, 'code-cache.cjs'));
rmSync(join(INSTALLED, 'bundle', 'inputs.json'));
process.on('exit', () => rmSync(INSTALLED, { recursive: true, force: true }));
const COMPARE = (process.env.BENCH_COMPARE ?? '')
  .split(',')
  .filter((x) => x !== '')
  .map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] as const);
const REPS = Number(process.env.BENCH_REPS ?? 11);
const SIZES = (process.env.BENCH_SIZES ?? '0,1000').split(',').map(Number);
const work = mkdtempSync(join(tmpdir(), 'helm-cli-bench-'));
process.env.XDG_CACHE_HOME = join(work, 'xdg');
let fresh = 0;
const cpuOut = join(work, 'cpu.json');
const preload = join(work, 'cpu.mjs');
// Written at exit by every measured process (baseline included, so both pay for the preload).
writeFileSync(
  preload,
  `import { writeFileSync } from 'node:fs';
process.on('exit', () => { const u = process.cpuUsage(); writeFileSync(${JSON.stringify(cpuOut)}, JSON.stringify((u.user + u.system) / 1000)); });\n`,
);

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

function measure(args: readonly string[], env: Record<string, string> = {}): Sample {
  rmSync(cpuOut, { force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', preload, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return { wall, cpu: JSON.parse(readFileSync(cpuOut, 'utf8')) as number };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (x: number, d = 2) => x.toFixed(d);

/** Median wall and CPU of each command, the commands interleaved so load drifts hit all alike. */
function rows(commands: Record<string, () => Sample>): Record<string, Sample> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(commands).map((c) => [c, []]));
  for (const run of Object.values(commands)) run(); // warm the page and compile caches
  for (let k = 0; k < REPS; k++)
    for (const [name, run] of Object.entries(commands)) samples[name]?.push(run());
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      { wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)) },
    ]),
  );
}

const ECHO = {
  type: 'helm.tool.v1',
  name: 'echo',
  description: 'echo',
  input_schema: { type: 'object', properties: { k: { type: 'integer' } }, additionalProperties: false },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'echo',
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
} as const;

const dir = join(work, 'home');
{
  // Budgets out of the way: the default P0 caps a principal at 1,000 calls an hour.
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
  data.writeTool(ECHO as never);
  data.close();
}
let k = 0;
const run =
  (env: Record<string, string> = {}, bin = BIN) =>
  () =>
    measure(
      [bin, '--data-dir', dir, 'run', '--tool', 'echo', '--principal', 'local', '--args', `{"k":${k++}}`],
      env,
    );

/** Stores `count` more receipts by governed calls through the runtime (in this process). */
async function fill(count: number): Promise<void> {
  const data = new DataDir(dir);
  const fingerprint = data.config().environment_fingerprint;
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  try {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const r = await rt.execute({
          tool: 'echo',
          principal: 'local',
          args: { k: -1 - i } as never,
          context: { environment_fingerprint: fingerprint, credential_id: 'cred-local' },
        } as never);
        if (r.receipt === undefined) throw new Error(`fill call ${i}: no receipt`);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } finally {
    await rt.close();
    data.close();
  }
}

const out: string[] = [];
const line = (s: string) => {
  out.push(s);
  console.log(s);
};
line(
  `load average before: ${loadavg()
    .map((x) => fmt(x))
    .join(' ')}; ${REPS} runs per row, median`,
);
const ratio = (a: Sample, b: Sample) =>
  `${fmt(a.wall, 0)} ms = ${fmt(a.wall / b.wall)}x wall, ${fmt(a.cpu, 0)} ms CPU = ${fmt(a.cpu / b.cpu)}x CPU`;
let stored = 0;
for (const size of SIZES) {
  if (size > stored) {
    await fill(size - stored);
    stored = size;
  }
  const first = size === SIZES[0];
  const r = rows({
    bare: () => measure(['-e', '0']),
    run: run(),
    installed: run({}, join(INSTALLED, 'bin.cjs')),
    ...Object.fromEntries(COMPARE.map(([label, bin]) => [`compare:${label}`, run({}, bin)])),
    ...(first
      ? {
          version: () => measure([BIN, '--version']),
          unbundled: run({ HELM_CLI_UNBUNDLED: '1' }),
          nocache: run({ NODE_DISABLE_COMPILE_CACHE: '1', HELMTS_NO_CODE_CACHE: '1' }),
          cold: () => run({ XDG_CACHE_HOME: join(work, `xdg-${++fresh}`) })(),
        }
      : {}),
  });
  stored += (REPS + 1) * ((first ? 5 : 2) + COMPARE.length);
  const bare = r.bare as Sample;
  line(`${size} receipts stored: node -e 0 ${fmt(bare.wall, 0)} ms wall, ${fmt(bare.cpu, 0)} ms CPU`);
  line(`  helmts run: ${ratio(r.run as Sample, bare)} (target <= 3x wall, flat in history size)`);
  line(`  helmts run, installed layout (no staleness check): ${ratio(r.installed as Sample, bare)}`);
  for (const [label, bin] of COMPARE)
    line(`  helmts run, ${label} (${bin}): ${ratio(r[`compare:${label}`] as Sample, bare)}`);
  if (first) {
    line(`  helmts --version (loading only): ${ratio(r.version as Sample, bare)}`);
    line(`  helmts run, unbundled build (HELM_CLI_UNBUNDLED=1): ${ratio(r.unbundled as Sample, bare)}`);
    line(
      `  helmts run, no cache (HELMTS_NO_CODE_CACHE=1 NODE_DISABLE_COMPILE_CACHE=1): ${ratio(r.nocache as Sample, bare)}`,
    );
    line(`  helmts run, first run with an empty code cache: ${ratio(r.cold as Sample, bare)}`);
  }
}
line(
  `load average after: ${loadavg()
    .map((x) => fmt(x))
    .join(' ')}`,
);
rmSync(work, { recursive: true, force: true });
