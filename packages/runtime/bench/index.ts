// The durable path at scale (#25), every row a ratio against a baseline measured in the same run.
// Run: `pnpm build && pnpm --filter @helm/runtime bench` (or `node --expose-gc bench/index.ts`).
//
// 1. durable calls/s, p50, p99 with 64 calls in flight: the governed runtime over SQLite (every
//    call admitted before its driver runs and receipted before its result is released, synchronous
//    fsync) vs the in-memory pipeline (the same guardian/executor/recorder over in-memory stores).
// 2. two-in-flight correctness: 200 concurrent calls (a third of them repeats of one idempotency
//    key) on one runtime: receipts committed, Lamports contiguous, executions of the repeated key.
// 3. heap retained per call by a long-running runtime (after GC), vs the in-memory pipeline.
// 4. `replay --reexecute` per receipt vs one governed call, for one epoch and for one epoch per
//    call (each call its own `helmts run`).
// 5. `helmts run` wall time at 0/1k/10k/100k stored receipts vs `node -e 0` (BENCH_RUN_MAX caps the
//    largest size; the chain is filled by writing real executor-signed receipts through the store,
//    as many calls would have, then one governed call closes the fill — the first open after a bulk
//    write reads it once for used grants; the runs measured are the opens after that).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiptChain } from '@helm/receipts';
import { DataDir, GovernedRuntime, reexecute } from '../dist/index.js';
import { benchDataDir, drive, FINGERPRINT, fmt, inMemoryPipeline } from './common.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'bin.cjs');
const IN_FLIGHT = 64;
const N = Number(process.env.BENCH_N ?? 4000);
const RUN_MAX = Number(process.env.BENCH_RUN_MAX ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
const dirs: string[] = [];

const call = (i: number, key?: string) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  ...(key === undefined ? {} : { idempotency_key: key }),
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-bench-'));
  dirs.push(dir);
  benchDataDir(dir, 'bench');
  return dir;
}

/** The embedded store's synchronous decision reads: without them the runtime decides on the async port. */
const SYNC_DECISION_READS = new Set([
  'ledgerStateSync',
  'ledgerReservationSync',
  'ledgerCounterSync',
  'nonceUsedSync',
  'consumeNonceSync',
  'idempotencyEntrySync',
]);

/** `data` whose store lacks the synchronous decision reads, as a networked store does. */
function portOnly(data: DataDir): DataDir {
  const store = data.store;
  const hidden = new Proxy(store, {
    get(target, key) {
      if (typeof key === 'string' && SYNC_DECISION_READS.has(key)) return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  Object.defineProperty(data, 'store', { get: () => hidden, configurable: true });
  return data;
}

async function withRuntime<T>(
  dir: string,
  fn: (rt: GovernedRuntime, data: DataDir) => Promise<T>,
  port = false,
): Promise<T> {
  const data = port ? portOnly(new DataDir(dir)) : new DataDir(dir);
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  try {
    return await fn(rt, data);
  } finally {
    await rt.close();
    data.close();
  }
}

/** Append `count` executor-signed receipts to the chain through the store (no runtime). */
function fill(dir: string, count: number): void {
  const data = new DataDir(dir);
  try {
    const store = data.store;
    const registry = data.registry();
    const head = store.chainHeadSync('bench');
    const last = head ? store.receiptsSync({ chainId: 'bench', fromLamport: head.lamport })[0] : undefined;
    const headSeq = last
      ? (
          JSON.parse(Buffer.from(last.envelope.payload, 'base64url').toString('utf8')) as {
            trust_seq: number;
          }
        ).trust_seq
      : 1;
    const chain = new ReceiptChain({
      signer: data.signer('executor', 'executor', registry),
      chainId: 'bench',
      ...(head
        ? { head: { chain_id: 'bench', lamport: head.lamport, hash: head.hash }, headTrustSeq: headSeq }
        : {}),
    });
    const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
    let batch: Parameters<typeof store.commitCallsSync>[0][number][] = [];
    for (let i = 0; i < count; i++) {
      const r = chain.prepare({
        decision_id: d(2 * i + 1),
        effect_id: d(2 * i + 2),
        effect_class: 'compute',
        status: 'SUCCEEDED',
        verdict: 'ALLOW',
        reason_code: 'ALLOW',
        args_hash: d(7),
        request_digest: null,
        output_hash: d(7),
        session_id: null,
        policy_hash: d(9),
        tool: 'echo',
        principal: 'alice',
        risk_tier: 'LOW',
        issued_at_ms: Date.now(),
        trust_seq: registry.seq,
        trust_head: registry.head,
      });
      chain.commit(r);
      batch.push({
        sessionId: 'bench',
        chainId: 'bench',
        receipt: {
          id: r.body.receipt_id,
          lamport: r.body.lamport,
          prevHash: r.body.prev_hash,
          hash: r.hash,
          riskTier: 'LOW',
          envelope: r.envelope,
        },
      });
      if (batch.length === 2000 || i === count - 1) {
        for (const res of store.commitCallsSync(batch)) if (res instanceof Error) throw res;
        batch = [];
      }
    }
  } finally {
    data.close();
  }
}

const rows: string[] = [];
const row = (s: string) => {
  rows.push(s);
  console.log(s);
};

// ---- 1. throughput --------------------------------------------------------------------------
{
  const executor = inMemoryPipeline();
  const check = async (i: number) => {
    const r = await executor.execute(call(i));
    if (r.status !== 'SUCCEEDED') throw new Error(`in-memory: ${r.reason_code}`);
  };
  await drive(N, IN_FLIGHT, check); // warm-up
  const mem = await drive(N, IN_FLIGHT, (i) => check(N + i));
  const dir = freshDir();
  const durable = await withRuntime(dir, async (rt) => {
    const one = async (i: number) => {
      const r = await rt.execute(call(i));
      if (r.status !== 'SUCCEEDED') throw new Error(`durable: ${r.reason_code}`);
    };
    await drive(N, IN_FLIGHT, one); // warm-up
    return drive(N, IN_FLIGHT, (i) => one(N + i));
  });
  // The same runtime and store deciding on the async port (the budget view's snapshot, the
  // idempotency read-ahead before each decision): what a networked store's decision path adds.
  const cpu = (f: () => Promise<{ perSec: number; p50: number; p99: number }>) => async () => {
    const c0 = process.cpuUsage();
    const r = await f();
    const c = process.cpuUsage(c0);
    return { ...r, cpuMsPerCall: (c.user + c.system) / 1000 / N };
  };
  const runOn = (port: boolean) =>
    withRuntime(
      freshDir(),
      async (rt) => {
        const one = async (i: number) => {
          const r = await rt.execute(call(i));
          if (r.status !== 'SUCCEEDED') throw new Error(`durable: ${r.reason_code}`);
        };
        await drive(N, IN_FLIGHT, one); // warm-up
        return cpu(() => drive(N, IN_FLIGHT, (i) => one(N + i)))();
      },
      port,
    );
  // Alternated A/B/A/B (the machine's load drifts); each side's best run.
  type Run = Awaited<ReturnType<typeof runOn>>;
  const best = (xs: Run[]): Run => xs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
  const syncRuns: Run[] = [];
  const portRuns: Run[] = [];
  for (let k = 0; k < 2; k++) {
    syncRuns.push(await runOn(false));
    portRuns.push(await runOn(true));
  }
  const syncDecide = best(syncRuns);
  const portDecide = best(portRuns);
  const cpuOf = (xs: Run[]) => Math.min(...xs.map((x) => x.cpuMsPerCall));
  row(
    `decision on the async port (runtime+SQLite, ${IN_FLIGHT} in flight, best of 2 alternated): synchronous reads ${fmt(syncDecide.perSec, 0)}/s ` +
      `(p50 ${fmt(syncDecide.p50)} ms, ${fmt(cpuOf(syncRuns))} CPU ms/call); port reads ${fmt(portDecide.perSec, 0)}/s ` +
      `(p50 ${fmt(portDecide.p50)} ms, ${fmt(cpuOf(portRuns))} CPU ms/call); ratio ${fmt(portDecide.perSec / syncDecide.perSec)}x wall, ` +
      `${fmt(cpuOf(syncRuns) / cpuOf(portRuns))}x CPU`,
  );
  row(
    `durable calls/s @${IN_FLIGHT} in flight: in-memory ${fmt(mem.perSec, 0)}/s (p50 ${fmt(mem.p50)} ms, p99 ${fmt(mem.p99)} ms); ` +
      `runtime+SQLite ${fmt(durable.perSec, 0)}/s (p50 ${fmt(durable.p50)} ms, p99 ${fmt(durable.p99)} ms); ` +
      `ratio ${fmt(durable.perSec / mem.perSec)}x (target >= 0.6), durable p99/p50 ${fmt(durable.p99 / durable.p50)} (target <= 3)`,
  );
}

// ---- 2. two (and 200) in flight -------------------------------------------------------------
{
  const dir = freshDir();
  const { receipts, contiguous, executed } = await withRuntime(dir, async (rt, data) => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => rt.execute(i % 3 === 0 ? call(-1, 'same-key') : call(i))),
    );
    const stored = data.store.receiptsSync({ chainId: 'bench' });
    return {
      receipts: stored.length,
      contiguous: stored.every((r, i) => r.lamport === i + 1),
      executed: results.filter((r, i) => i % 3 === 0 && r.reason_code === 'ALLOW').length,
    };
  });
  row(
    `two-in-flight correctness: 200 concurrent calls -> ${receipts}/200 receipts committed, Lamports contiguous: ${contiguous}, ` +
      `repeated key executed ${executed}x (must be 1)`,
  );
}

// ---- 3. heap per call -----------------------------------------------------------------------
if (gc) {
  const heapPerCall = async (run: (i: number) => Promise<void>) => {
    await drive(2000, IN_FLIGHT, run);
    gc();
    const before = process.memoryUsage().heapUsed;
    await drive(N, IN_FLIGHT, (i) => run(10_000 + i));
    gc();
    return (process.memoryUsage().heapUsed - before) / N;
  };
  const executor = inMemoryPipeline();
  const mem = await heapPerCall(async (i) => void (await executor.execute(call(i))));
  const dir = freshDir();
  const durable = await withRuntime(dir, (rt) => heapPerCall(async (i) => void (await rt.execute(call(i)))));
  row(
    `heap retained per call (after GC, ${N} calls): runtime+SQLite ${fmt(durable, 0)} B/call; in-memory pipeline ${fmt(mem, 0)} B/call (keeps every envelope by design)`,
  );
} else row('heap retained per call: skipped (run with node --expose-gc)');

// ---- 4. replay ------------------------------------------------------------------------------
{
  const R = Number(process.env.BENCH_REPLAY ?? 300);
  // One epoch: R calls by one runtime.
  const one = freshDir();
  const perCall = await withRuntime(one, async (rt) => {
    const t = performance.now();
    for (let i = 0; i < R; i++) await rt.execute(call(i));
    return (performance.now() - t) / R;
  });
  const timeReplay = async (dir: string) => {
    const data = new DataDir(dir);
    try {
      const t = performance.now();
      const r = await reexecute(data);
      if (!r.ok || r.identical !== r.calls)
        throw new Error(`replay diverged: ${JSON.stringify(r.divergences[0])}`);
      return (performance.now() - t) / r.calls;
    } finally {
      data.close();
    }
  };
  const oneEpoch = await timeReplay(one);
  // One epoch per call: every call its own open (as `helmts run` does).
  const many = freshDir();
  for (let i = 0; i < R; i++) await withRuntime(many, async (rt) => void (await rt.execute(call(i))));
  const manyEpochs = await timeReplay(many);
  row(
    `replay --reexecute per receipt (${R} receipts): one epoch ${fmt(oneEpoch)} ms = ${fmt(oneEpoch / perCall)}x one governed call (${fmt(perCall)} ms); ` +
      `one epoch per call ${fmt(manyEpochs)} ms = ${fmt(manyEpochs / perCall)}x (target <= 1.5)`,
  );
}

// ---- 5. helmts run latency vs stored receipts -------------------------------------------------
{
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const time = (args: string[]) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr || r.stdout}`);
    return ms;
  };
  const REPS = Number(process.env.BENCH_RUN_REPS ?? 5);
  const bare = median(Array.from({ length: REPS }, () => time(['-e', '0'])));
  // The floor no data directory changes: loading the CLI and everything it imports.
  const loadOnly = median(Array.from({ length: REPS }, () => time([CLI, '--version'])));
  const dir = freshDir();
  let stored = 0;
  const parts: string[] = [];
  for (const size of [0, 1_000, 10_000, 100_000].filter((s) => s <= RUN_MAX)) {
    if (size > stored) {
      fill(dir, size - stored);
      stored = size;
      await withRuntime(dir, async (rt) => void (await rt.execute(call(-size))));
      stored += 1;
    }
    const runs: number[] = [];
    for (let k = 0; k < REPS; k++) {
      runs.push(
        time([
          CLI,
          'run',
          '--data-dir',
          dir,
          '--tool',
          'echo',
          '--principal',
          'alice',
          '--credential',
          'cred-alice',
          '--args',
          `{"k":${k}}`,
          '--json',
        ]),
      );
    }
    stored += REPS;
    const m = median(runs);
    parts.push(`${size}: ${fmt(m, 0)} ms = ${fmt(m / bare)}x`);
  }
  row(
    `helmts run wall time (median of ${REPS}) vs node -e 0 (${fmt(bare, 0)} ms): ${parts.join('; ')} (target <= 3x, flat); ` +
      `floor: helmts --version (module loading only) ${fmt(loadOnly, 0)} ms = ${fmt(loadOnly / bare)}x`,
  );
}

for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log('\nsummary');
for (const r of rows) console.log(`  ${r}`);
