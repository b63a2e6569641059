// I-SANDBOX-2 scenarios, run as their own `node` process so that the CPU time read from /proc is
// theirs alone (the test runner's other threads are not in it):
//
//   node --experimental-transform-types --import ../helpers/ts-resolve.mjs cpu-scenario.ts \
//     <process|thread> <deadline|close> <case>…
//
// Each case gets its own sandbox (with its own isolation). All calls start together, timed so
// that they all end together: by their deadline, or by sandbox.close() at that moment. 100 ms
// after the last result this process measures, over 2 s, the CPU time of itself (all its threads,
// and its reaped children) and of the processes that ran the guests, and prints one JSON line.
// Then it closes the sandboxes and returns without process.exit(): the test checks that the
// process exits on its own (no thread or child process left running).
import { readFileSync } from 'node:fs';
import { createSandbox, type ModuleHandle, type Sandbox } from '@helm/runtime-sandbox';
import { processIsolation } from '../../../sandbox-process/src/index.ts';
import { wat } from '../helpers/wat.ts';
import { CPU_CASES } from './cpu-cases.ts';

const TICK_MS = 10; // USER_HZ = 100 on Linux
const END_MS = 400; // every call ends (deadline or close) this long after the first one starts
const SETTLE_MS = 100;
const WINDOW_MS = 2000;

/** Parent pid, state and utime + stime + cutime + cstime (ms) of /proc/<pid>/stat; undefined once reaped. */
function stat(pid: number | 'self'): { ppid: number; cpu: number; zombie: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  return { ppid: n(1), cpu: (n(11) + n(12) + n(13) + n(14)) * TICK_MS, zombie: f[0] === 'Z' };
}

/**
 * CPU ms used so far by the children in `pids` that are still alive or unreaped. Once reaped, a
 * child's time moves into this process's cutime/cstime, so `selfMs() + childMs(pids)` only grows
 * by work done. Children started later — replacement isolation processes booting — are not guest
 * work and are not counted (while alive: they are never reaped during a measurement).
 */
const childMs = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => {
    const s = stat(pid);
    return s !== undefined && s.ppid === process.pid ? sum + s.cpu : sum;
  }, 0);
const selfMs = (): number => stat('self')?.cpu ?? 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Lane {
  readonly name: string;
  readonly sandbox: Sandbox;
  readonly handle: ModuleHandle;
  readonly deadlineMs: number;
  /** The isolation process that runs this lane's call (none with in-thread isolation). */
  readonly guests: readonly number[];
  code?: string | undefined;
}

const [mode = 'process', trigger = 'deadline', ...names] = process.argv.slice(2);
const trivial = await wat('(module (memory (export "memory") 1) (func (export "_start")))');
const limits = { gas: Number.MAX_SAFE_INTEGER, max_output_bytes: 0 };
const lanes: Lane[] = [];
for (const name of names) {
  const spec = CPU_CASES[name];
  if (spec === undefined) throw new Error(`unknown case ${name}`);
  const isolation = mode === 'process' ? processIsolation() : undefined;
  const sandbox = createSandbox(isolation === undefined ? {} : { isolation });
  const handle = await sandbox.register(await spec.module());
  // Warm up: the worker (and the isolation process) run before the measured call starts.
  await sandbox.run(await sandbox.register(trivial), new Uint8Array(0), { ...limits, timeout_ms: 30_000 });
  const guests = isolation?.pids() ?? [];
  lanes.push({ name, sandbox, handle, deadlineMs: spec.deadlineMs ?? END_MS, guests });
}
const all = lanes.flatMap((l) => l.guests);
/** This process's CPU (threads, reaped children) plus the guests' processes still unreaped. */
const totalMs = (): number => selfMs() + childMs(all);

const t0 = performance.now();
const start = totalMs();
// Sampled just before the calls end (a killed child may be reaped at any time after that).
const sampled = sleep(END_MS - 30).then(() => totalMs() - start);
await Promise.all(
  lanes.map(async (lane) => {
    await sleep(END_MS - lane.deadlineMs); // so that every call ends at END_MS
    if (trigger === 'deadline') {
      const r = await lane.sandbox.run(lane.handle, new Uint8Array(0), {
        ...limits,
        timeout_ms: lane.deadlineMs,
      });
      lane.code = r.code;
    } else {
      const pending = lane.sandbox.run(lane.handle, new Uint8Array(0), { ...limits, timeout_ms: 600_000 });
      await sleep(lane.deadlineMs);
      await lane.sandbox.close();
      lane.code = (await pending).code;
    }
  }),
);
const ended = performance.now() - t0;
const busy = await sampled;
await sleep(SETTLE_MS);
const c0 = totalMs();
const alive = (pids: readonly number[]) => pids.filter((pid) => stat(pid)?.zombie === false).length;
const lanesAtWindow = lanes.map((l) => ({ code: l.code, guest_processes_running: alive(l.guests) }));
await sleep(WINDOW_MS);
const after = totalMs() - c0;
console.log(
  JSON.stringify({
    mode,
    trigger,
    ended_ms: Math.round(ended),
    busy_window_ms: END_MS - 30,
    busy_cpu_ms: busy,
    window_ms: WINDOW_MS,
    after_cpu_ms: after,
    lanes: Object.fromEntries(lanes.map((l, i) => [l.name, lanesAtWindow[i]])),
    guest_processes_running: alive(all),
  }),
);
await Promise.all(lanes.map((l) => l.sandbox.close()));
