// I-SANDBOX-2 scenarios, run as their own `node` process so that the CPU time read from /proc is
// theirs alone (the test runner's other threads are not in it):
//
//   node --experimental-transform-types --import ../helpers/ts-resolve.mjs cpu-scenario.ts \
//     <process|thread> <deadline|close> <case>…
//
// Each case gets its own sandbox (with its own isolation). All calls start together, timed so
// that they all end together: by their deadline, or by sandbox.close() at that moment. 100 ms
// after the last result this process measures, over 2 s, the CPU time the guests use — with
// process isolation, the processes that ran them; in-thread, this whole process (the guests run
// in its worker threads) — and prints one JSON line.
//
// What is measured with process isolation, and why. A guest process alive when the window opens
// is sampled every 10 ms (/proc/<pid>/stat, alive or zombie) and contributes what its CPU time
// grew until its last sample; one already dead then (zombie or reaped) can run nothing and
// contributes 0. Earlier this was "this process's CPU (threads and reaped children) plus the
// unreaped guests'", which at load ~15 measured 40–110 ms of 2 000 (bound: 100) although every
// guest was a zombie when the window opened: (1) when a zombie is reaped its parent's cutime
// grows by the kernel's final accounting of it, ~10 ms more per process than its own
// /proc/<pid>/stat showed a moment before (9 lanes: up to 90 ms that no code used), and (2) this
// process's own work right after a deadline — spawning a replacement isolation process per lane
// and sending it every pinned module — is host work, not guest work. It is reported as
// `host_cpu_ms`.
import { readFileSync } from 'node:fs';
import { createSandbox, type ModuleHandle, type Sandbox } from '@helm/runtime-sandbox';
import { processIsolation } from '../../../sandbox-process/src/index.ts';
import { wat } from '../helpers/wat.ts';
import { CPU_CASES } from './cpu-cases.ts';

const TICK_MS = 10; // USER_HZ = 100 on Linux
const END_MS = 400; // every call ends (deadline or close) this long after the first one starts
const SETTLE_MS = 100;
const WINDOW_MS = 2000;

/**
 * Parent pid, state, utime + stime (`own`), cutime + cstime (`reaped`: the children it has
 * reaped) and their sum (ms) of /proc/<pid>/stat; undefined once reaped.
 */
function stat(
  pid: number | 'self',
): { ppid: number; cpu: number; own: number; reaped: number; zombie: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  const own = (n(11) + n(12)) * TICK_MS;
  const reaped = (n(13) + n(14)) * TICK_MS;
  return { ppid: n(1), cpu: own + reaped, own, reaped, zombie: f[0] === 'Z' };
}

const selfMs = (): number => stat('self')?.cpu ?? 0;

/**
 * The CPU the guest processes `pids` (children of this process) use from `open()` on: each one
 * alive then is sampled every 10 ms until `close()`, and counts what its CPU time grew up to its
 * last sample (alive or zombie); one dead at `open()` counts 0. Replacement isolation processes
 * started later are not in `pids`.
 */
class GuestCpu {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  constructor(private readonly pids: readonly number[]) {}

  private sample(): void {
    for (const pid of this.base.keys()) {
      const s = stat(pid);
      if (s !== undefined && s.ppid === process.pid) this.last.set(pid, s.cpu);
    }
  }

  open(): void {
    for (const pid of this.pids) {
      const s = stat(pid);
      if (s !== undefined && s.ppid === process.pid && !s.zombie) {
        this.base.set(pid, s.cpu);
        this.last.set(pid, s.cpu);
      }
    }
    this.timer = setInterval(() => this.sample(), 10);
  }

  close(): number {
    clearInterval(this.timer);
    this.sample();
    let ms = 0;
    for (const [pid, base] of this.base) ms += (this.last.get(pid) as number) - base;
    return ms;
  }
}

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
/** The guests' CPU over a window: see GuestCpu; in-thread, this whole process's. */
function measure(): { close(): number } {
  if (mode === 'process') {
    const m = new GuestCpu(all);
    m.open();
    return m;
  }
  const from = selfMs();
  return { close: () => selfMs() - from };
}
const hostMs = (): number => stat('self')?.own ?? 0;

const t0 = performance.now();
const running = measure();
// Sampled just before the calls end (a killed child may be reaped at any time after that).
const sampled = sleep(END_MS - 30).then(() => running.close());
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
const window = measure();
const h0 = hostMs();
const alive = (pids: readonly number[]) => pids.filter((pid) => stat(pid)?.zombie === false).length;
const lanesAtWindow = lanes.map((l) => ({ code: l.code, guest_processes_running: alive(l.guests) }));
await sleep(WINDOW_MS);
const after = window.close();
const host = hostMs() - h0;
console.log(
  JSON.stringify({
    mode,
    trigger,
    ended_ms: Math.round(ended),
    busy_window_ms: END_MS - 30,
    busy_cpu_ms: busy,
    window_ms: WINDOW_MS,
    after_cpu_ms: after,
    host_cpu_ms: host,
    lanes: Object.fromEntries(lanes.map((l, i) => [l.name, lanesAtWindow[i]])),
    guest_processes_running: alive(all),
  }),
);
await Promise.all(lanes.map((l) => l.sandbox.close()));
