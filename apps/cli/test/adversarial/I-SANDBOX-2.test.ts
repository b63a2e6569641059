// I-SANDBOX-2 (CLI side) — `helmts run` of a WASM tool whose guest spins past its deadline prints
// the TIME receipt (DRIVER_TIMEOUT: see below), exits on its own within a bounded time, and
// leaves no process it spawned running.
//
// The CLI runs guests in @helm/sandbox-process children, SIGKILLed at the deadline. Before that,
// a timed-out guest kept its worker thread spinning, and `helm run` printed the TIME receipt and
// then hung (issue 15 §1). The attacker's guests: a loop around a 64 MiB `memory.fill` (work the
// engine does not interrupt promptly) and a plain loop (a dependent chain of divisions: the most
// CPU per unit of gas a loop without bulk instructions buys). The CLI's gas budget (5,000,000)
// buys them ~45 ms and ~3.5 ms of CPU (runGuest in-process, load 12), so deadlines of 10 ms and
// 1 ms (the smallest a descriptor allows) end them while they spin.
//
// Each CLI runs in its own process group (`detached`), so every process it spawns — and anything
// those spawn — carries its pid as process group id: the test polls /proc for them while the CLI
// runs (proof that the check sees the isolation children at all) and after it exits (none may be
// left but zombies, which run nothing). With the deadline's kill removed (sandbox-process
// `expire` not calling `kill`) both cases fail: the CLI prints the FAILED receipt and then hangs
// until the test kills it at HANG_MS (the child, taken out of the pool unkilled, keeps its IPC
// channel referenced) — the symptom.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, requireCurrentBuild, spawnHelmts } from '../cli-process.ts';
import { ECHO_TOOL, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-cli-deadline-');
const dir = join(root, 'home');
const helmts = (...args: string[]) => spawnHelmts(['-d', dir, ...args], { cwd: root });
const file = (name: string, value: string): string => {
  const path = join(root, name);
  writeFileSync(path, value);
  return path;
};

/** Each guest's deadline (descriptor `driver.timeout_ms`): well inside the CPU its gas buys. */
const TIMEOUT_MS: Record<keyof typeof GUESTS, number> = { 'fill-spin': 10, 'plain-spin': 1 };

const GUESTS = {
  'fill-spin': `(module (memory (export "memory") 1024 1024)
    (func (export "_start")
      (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x4000000)) (br $l))))`,
  'plain-spin': `(module (memory (export "memory") 1)
    (func (export "_start") (local $x i64)
      (local.set $x (i64.const -1))
      (loop $l
        (local.set $x (i64.div_u (i64.const -1) (i64.or (local.get $x) (i64.const 3))))
        (local.set $x (i64.div_u (i64.const -1) (i64.or (local.get $x) (i64.const 3))))
        (local.set $x (i64.div_u (i64.const -1) (i64.or (local.get $x) (i64.const 3))))
        (local.set $x (i64.div_u (i64.const -1) (i64.or (local.get $x) (i64.const 3))))
        (br $l))))`,
} as const;

/** Past this a CLI run is hung and is killed (it takes ~2 s at load 12). */
const HANG_MS = 60_000;
/** The bound on the run: a CLI that needs longer did not stop on its own. */
const EXIT_WITHIN_MS = 45_000;

interface ProcInfo {
  readonly state: string;
  readonly pgrp: number;
}

/** state and process group of /proc/<pid>/stat (undefined when gone). */
function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] as string, pgrp: Number(fields[2]) };
}

/** Live (non-zombie) processes of process group `pgrp`, `exclude` left out. */
function groupMembers(pgrp: number, exclude: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === exclude) continue;
    const info = procInfo(pid);
    if (info !== undefined && info.pgrp === pgrp && info.state !== 'Z' && info.state !== 'X') found.push(pid);
  }
  return found;
}

interface DetachedRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from spawn to exit. */
  readonly ms: number;
  /** every process seen in the CLI's process group while it ran. */
  readonly seen: ReadonlySet<number>;
  /** live processes of the group right after the CLI exited. */
  readonly leftAtExit: readonly number[];
  /** live processes of the group 500 ms later. */
  readonly leftLater: readonly number[];
}

/** `helmts -d <dir> <args>` as the leader of its own process group, watched through /proc. */
function runDetached(args: readonly string[]): Promise<DetachedRun> {
  requireCurrentBuild();
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(
      Object.entries({
        ...process.env,
        HELM_HOME: undefined,
        HELM_DEBUG: undefined,
        HELM_DATABASE_URL: undefined,
      }).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, '-d', dir, ...args], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgrp = child.pid as number;
    const seen = new Set<number>();
    const poll = setInterval(() => {
      for (const pid of groupMembers(pgrp, pgrp)) seen.add(pid);
    }, 5);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    // A hung CLI is killed with its whole group, so that a failing run leaves nothing behind.
    const killer = setTimeout(() => process.kill(-pgrp, 'SIGKILL'), HANG_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      clearInterval(poll);
      clearTimeout(killer);
      const leftAtExit = groupMembers(pgrp, pgrp);
      setTimeout(() => {
        const leftLater = groupMembers(pgrp, pgrp);
        // Clean up whatever a failing run left, after recording it.
        if (leftLater.length > 0) process.kill(-pgrp, 'SIGKILL');
        // stdout/stderr may still hold unread data at 'exit': give the pipes the same 500 ms.
        resolve({ code, signal, stdout, stderr, ms, seen, leftAtExit, leftLater });
      }, 500);
    });
  });
}

beforeAll(async () => {
  expect((await helmts('init')).code).toBe(0);
  for (const [name, wat] of Object.entries(GUESTS)) {
    const descriptor = {
      ...ECHO_TOOL,
      name,
      input_schema: { type: 'object' },
      driver: {
        kind: 'sandbox',
        ref: 'set-by-register',
        timeout_ms: TIMEOUT_MS[name as keyof typeof GUESTS],
      },
    };
    const r = await helmts(
      'tool',
      'register',
      file(`${name}.json`, JSON.stringify(descriptor)),
      '--wasm',
      file(`${name}.wat`, wat),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  const bundle = {
    type: 'helm.policy.bundle.v1',
    name: 'spin',
    version: 2,
    rules: [
      {
        id: 'spin',
        effect: 'allow',
        when: { principal: { eq: 'local' }, tool: { in: Object.keys(GUESTS) } },
      },
    ],
  };
  const signed = await helmts('policy', 'sign', file('bundle.json', JSON.stringify(bundle)));
  expect(signed.code, signed.stdout + signed.stderr).toBe(0);
}, 120_000);

describe.skipIf(process.platform !== 'linux')(
  'I-SANDBOX-2 (CLI): a guest spinning past its deadline is stopped and `helmts run` exits',
  () => {
    for (const name of Object.keys(GUESTS)) {
      it(
        `${name}: TIME receipt, the CLI exits on its own, no spawned process is left`,
        async () => {
          const r = await runDetached([
            'run',
            '--tool',
            name,
            '--principal',
            'local',
            '--args',
            '{}',
            '--json',
          ]);
          const context = `exit ${r.code}/${r.signal} after ${Math.round(r.ms)} ms\n${r.stdout}\n${r.stderr}`;
          // It exited by itself, in bounded time (HANG_MS would have killed it with SIGKILL).
          expect(r.signal, context).toBeNull();
          expect(r.ms, context).toBeLessThan(EXIT_WITHIN_MS);
          // The TIME receipt: a FAILED call stopped by a deadline, committed. Two deadlines race:
          // the executor's driver timer (DRIVER_TIMEOUT, the tool's timeout_ms) and the sandbox's
          // own (ERR_COMPUTE_TIME_EXHAUSTED, armed when a child takes the call, which kills the
          // guest's process). The executor's usually answers first, but on a loaded host its timer
          // callback can run after the sandbox's answer arrived; either is the deadline's receipt.
          const json = JSON.parse(r.stdout) as Record<string, unknown>;
          expect(json, context).toMatchObject({ ok: false, status: 'FAILED', driver_invoked: true });
          if (json.reason_code === 'DRIVER_TIMEOUT')
            expect(json.message, context).toBe(
              `the driver exceeded ${TIMEOUT_MS[name as keyof typeof GUESTS]} ms`,
            );
          else expect(json.reason_code, context).toBe('ERR_COMPUTE_TIME_EXHAUSTED');
          expect(json.receipt_hash, context).toMatch(/^sha256:[0-9a-f]{64}$/);
          expect(r.code, context).toBe(1);
          // The check can see the CLI's children: the isolation process ran in its group…
          expect(r.seen.size, context).toBeGreaterThanOrEqual(1);
          // …and none of them outlived the CLI.
          expect(r.leftAtExit, context).toEqual([]);
          expect(r.leftLater, context).toEqual([]);
        },
        HANG_MS + 10_000,
      );
    }
  },
);
