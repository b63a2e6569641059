// I-SANDBOX-2 — after a call's deadline, or after sandbox.close(), the guest's CPU use stops: from
// 100 ms after the result on, the processes that ran the guests use < 5% of one core over the next
// 2 s (each sampled on its own; cpu-scenario.ts says why not the parent's cutime), the sandbox's
// own process — which spawns the replacement isolation processes then — < 25%, and a process
// running sandboxes exits on its own after close().
//
// The attacker's modules keep a core busy in work the engine does not interrupt promptly (a loop
// around one large bulk instruction, a long instantiation, a long start function; cpu-cases.ts).
// With the in-thread isolation such calls are reported ERR_COMPUTE_TIME_EXHAUSTED on time while
// their threads keep running (and keep the process from exiting); with process isolation
// (@helm/sandbox-process) their process is killed. The scenarios run in their own `node`
// processes (cpu-scenario.ts) so that the CPU time read from /proc is theirs, not the runner's;
// all cases of a scenario run at once, so the CPU bound holds for all of them together.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_CASES } from './cpu-cases.ts';

interface ScenarioResult {
  readonly ended_ms: number;
  readonly busy_window_ms: number;
  readonly busy_cpu_ms: number;
  readonly window_ms: number;
  readonly after_cpu_ms: number;
  readonly host_cpu_ms: number;
  readonly lanes: Readonly<Record<string, { code?: string; guest_processes_running: number }>>;
  readonly guest_processes_running: number;
}

interface Run {
  readonly result: ScenarioResult | undefined;
  /** ms from printing the result to exiting on its own; undefined if it had to be killed. */
  readonly exitAfterMs: number | undefined;
  readonly stderr: string;
}

const SCENARIO = fileURLToPath(new URL('./cpu-scenario.ts', import.meta.url));
const HOOK = new URL('../helpers/ts-resolve.mjs', import.meta.url).href;
/**
 * A scenario takes ~6 s idle, ~14 s at load 16, and more beside the rest of the suite; past this
 * it is hung (a thread or child keeps it alive) and is killed. (Whether it exits on its own once
 * its sandboxes are closed is checked apart: exitAfterMs.)
 */
const HANG_MS = 50_000;

function scenario(trigger: 'deadline' | 'close', cases: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const args = ['--experimental-transform-types', '--no-warnings', '--import', HOOK, SCENARIO];
    const proc = spawn(process.execPath, [...args, 'process', trigger, ...cases], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let printedAt: number | undefined;
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (printedAt === undefined && stdout.includes('\n')) printedAt = performance.now();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const killer = setTimeout(() => proc.kill('SIGKILL'), HANG_MS);
    proc.on('exit', (code, signal) => {
      clearTimeout(killer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      const result = line === undefined ? undefined : (JSON.parse(line) as ScenarioResult);
      const exitAfterMs =
        signal === null && code === 0 && printedAt !== undefined ? performance.now() - printedAt : undefined;
      resolve({ result, exitAfterMs, stderr });
    });
  });
}

const DEADLINE_CASES = Object.keys(CPU_CASES);
const CLOSE_CASES = [
  'memory.fill',
  'table.copy',
  'instantiate: start function',
  'instantiate: tables and segments',
];

describe.skipIf(process.platform !== 'linux')(
  'I-SANDBOX-2: guest CPU stops after the deadline or close',
  () => {
    const runs: Partial<Record<'deadline' | 'close', Run>> = {};
    beforeAll(async () => {
      [runs.deadline, runs.close] = await Promise.all([
        scenario('deadline', DEADLINE_CASES),
        scenario('close', CLOSE_CASES),
      ]);
    }, 90_000);

    const result = (trigger: 'deadline' | 'close'): ScenarioResult => {
      const run = runs[trigger] as Run;
      expect(run.result, run.stderr).toBeDefined();
      return run.result as ScenarioResult;
    };

    for (const [trigger, cases, code] of [
      ['deadline', DEADLINE_CASES, 'ERR_COMPUTE_TIME_EXHAUSTED'],
      ['close', CLOSE_CASES, 'INTERNAL_ERROR'],
    ] as const) {
      for (const name of cases) {
        it(`${trigger === 'deadline' ? 'the deadline' : 'sandbox.close()'} ends ${name} and kills its process`, () => {
          const lane = result(trigger).lanes[name];
          expect(lane?.code).toBe(code);
          expect(lane?.guest_processes_running).toBe(0);
        });
      }

      it(`after ${trigger === 'deadline' ? 'the deadlines' : 'close()'}: < 5% of a core from 100 ms on, and the process exits`, () => {
        const r = result(trigger);
        // The guests were really running until the deadline or close (≥ 10% of a core on average:
        // a loose floor, because the machine may be shared)…
        expect(r.busy_cpu_ms).toBeGreaterThanOrEqual(0.1 * r.busy_window_ms);
        // …and from 100 ms after the last result on, everything together uses < 5% of one core.
        expect(r.after_cpu_ms).toBeLessThan(0.05 * r.window_ms);
        // The host's own work then (replacement processes: fork, the pinned modules sent over
        // IPC) is not the guests'; bounded loosely, so that a host left spinning still fails.
        expect(r.host_cpu_ms).toBeLessThan(0.25 * r.window_ms);
        expect(r.guest_processes_running).toBe(0);
        // Nothing keeps the process alive once its sandboxes are closed.
        const run = runs[trigger] as Run;
        expect(run.exitAfterMs, 'the scenario process did not exit on its own').toBeDefined();
        expect(run.exitAfterMs as number).toBeLessThan(5000);
      });
    }
  },
);
