// The floor under row 1 of `pnpm --filter @helm/runtime bench` (durable calls/s and p99/p50 with 64
// calls in flight): the same closed loop and the same SQLite settings (WAL, synchronous=FULL), with
// no governance work, measured in one run so the machine's load is the same for all rows:
//   1. one commit at a time: the distribution of a synced SQLite commit (fsync) on this machine;
//   2. 64 in flight, each call two commits (admission, then receipt) through @helm/store's
//      GroupCommitter, ~1.2 KB a row: what group commit and fsync alone cost, and their tail;
//   3. the same closed loop with the commits replaced by a CPU-bound step of the governed call's
//      size (SHA-256 over 1.45 ms worth of data, BENCH_CPU_MS) and no I/O: the tail a closed loop
//      of 64 calls has on this machine without any storage.
// Run: `pnpm build && node bench/durable-floor.ts` (here, apps/cli). BENCH_N (default 4000) calls.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GroupCommitter } from '@helm/store';

const N = Number(process.env.BENCH_N ?? 4000);
const CPU_MS = Number(process.env.BENCH_CPU_MS ?? 1.45);
const IN_FLIGHT = 64;
const work = mkdtempSync(join(tmpdir(), 'helm-durable-floor-'));
const fmt = (x: number, d = 2) => x.toFixed(d);
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

function open(name: string): DatabaseSync {
  const db = new DatabaseSync(join(work, name));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  return db;
}
const ROW = new Uint8Array(1200).fill(7);

async function drive(total: number, call: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await call(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { perSec: (total / ms) * 1000, p50: pct(lat, 50), p99: pct(lat, 99) };
}
const show = (r: { perSec: number; p50: number; p99: number }) =>
  `${fmt(r.perSec, 0)} calls/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, p99/p50 ${fmt(r.p99 / r.p50)}`;

console.log(
  `load average before: ${loadavg()
    .map((x) => fmt(x))
    .join(' ')}; N=${N}, ${IN_FLIGHT} in flight`,
);
for (let round = 1; round <= 2; round++) {
  // 1. one synced commit at a time
  {
    const db = open(`single-${round}.db`);
    const ins = db.prepare('INSERT INTO t (body) VALUES (?)');
    const lat: number[] = [];
    for (let i = 0; i < Math.min(N, 1000); i++) {
      const s = performance.now();
      db.exec('BEGIN IMMEDIATE');
      ins.run(ROW);
      db.exec('COMMIT');
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    console.log(
      `round ${round} 1. one synced commit at a time: p50 ${fmt(pct(lat, 50), 3)} ms, p99 ${fmt(pct(lat, 99), 3)} ms, p99/p50 ${fmt(pct(lat, 99) / pct(lat, 50))}`,
    );
    db.close();
  }
  // 2. group commit, two commits per call
  {
    const db = open(`group-${round}.db`);
    const ins = db.prepare('INSERT INTO t (body) VALUES (?)');
    let flushes = 0;
    const committer = new GroupCommitter<Uint8Array, number>((rows) => {
      flushes += 1;
      db.exec('BEGIN IMMEDIATE');
      const out = rows.map((r) => Number(ins.run(r).lastInsertRowid));
      db.exec('COMMIT');
      return out;
    });
    const one = async () => {
      await committer.submit(ROW); // admission
      await committer.submit(ROW); // receipt
    };
    await drive(N, one); // warm-up
    flushes = 0;
    const r = await drive(N, one);
    console.log(
      `round ${round} 2. group commit, 2 commits per call: ${show(r)}; ${fmt((2 * N) / flushes, 1)} rows per flush`,
    );
    db.close();
  }
  // 3. the closed loop without I/O, CPU_MS of hashing per call (split around one await, as a call
  //    splits its work around its commits)
  {
    const chunk = new Uint8Array(4096);
    let perMs = 0;
    {
      const s = performance.now();
      let k = 0;
      while (performance.now() - s < 20) {
        createHash('sha256').update(chunk).digest();
        k++;
      }
      perMs = k / 20;
    }
    const work_ = (ms: number) => {
      for (let k = 0; k < perMs * ms; k++) createHash('sha256').update(chunk).digest();
    };
    const one = async () => {
      work_(CPU_MS / 2);
      await new Promise<void>((r) => setImmediate(r));
      work_(CPU_MS / 2);
    };
    await drive(N / 4, one);
    const r = await drive(N, one);
    console.log(`round ${round} 3. closed loop, no I/O, ${CPU_MS} ms CPU per call: ${show(r)}`);
  }
}
console.log(
  `load average after: ${loadavg()
    .map((x) => fmt(x))
    .join(' ')}`,
);
rmSync(work, { recursive: true, force: true });
