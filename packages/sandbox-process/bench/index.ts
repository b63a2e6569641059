// Benchmarks for @helm/sandbox-process (run after `pnpm build`: `node bench/index.ts`), each next to
// the in-thread isolation it replaces:
//  1. warm call latency (cached module, warm child / worker);
//  2. deadline overrun: how late a call whose guest loops on a 4 MiB memory.fill returns after its
//     deadline (process: the child is SIGKILLed and reaped first; thread: terminate requested only);
//  3. CPU of the sandbox's process + the guest's process from 100 ms after that result, over 1 s.
import { readFileSync } from 'node:fs';
import { createSandbox } from '@helm/runtime-sandbox';
import wabtInit from 'wabt';
import { processIsolation } from '../dist/index.js';

const wabt = await wabtInit();
const wat = (src: string): Uint8Array => {
  const m = wabt.parseWat('bench.wat', src, { bulk_memory: true });
  const out = new Uint8Array(m.toBinary({}).buffer);
  m.destroy();
  return out;
};
const TRIVIAL = wat('(module (memory (export "memory") 1) (func (export "_start")))');
const FILL = wat(`(module (memory (export "memory") 1024)
  (func (export "_start") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x400000)) (br $l))))`);
/** utime + stime (+ cutime + cstime for self) of a process, ms; 0 once reaped. */
const cpu = (pid: number | 'self'): number => {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = t
      .slice(t.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (
      ((f[11] as number) + (f[12] as number) + (pid === 'self' ? (f[13] as number) + (f[14] as number) : 0)) *
      10
    );
  } catch {
    return 0;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const rows: string[][] = [];
const modes = process.argv.includes('--process-only')
  ? (['process'] as const)
  : (['thread', 'process'] as const);
for (const mode of modes) {
  const isolation = mode === 'process' ? processIsolation() : undefined;
  const sandbox = createSandbox(isolation === undefined ? {} : { isolation });
  const trivial = await sandbox.register(TRIVIAL);
  const fill = await sandbox.register(FILL);
  const limits = { gas: 1_000_000, timeout_ms: 5000, max_output_bytes: 0 };
  for (let i = 0; i < 100; i++) await sandbox.run(trivial, new Uint8Array(0), limits);
  const warm: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await sandbox.run(trivial, new Uint8Array(0), limits);
    warm.push(performance.now() - t0);
  }
  rows.push([`${mode}: warm call (median)`, `${median(warm).toFixed(3)} ms`]);
  const overruns: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < (mode === 'thread' ? 1 : 5); i++) {
    await sandbox.run(trivial, new Uint8Array(0), limits); // the replacement is up
    const guests = isolation?.pids() ?? [];
    const t0 = performance.now();
    const r = await sandbox.run(fill, new Uint8Array(0), {
      ...limits,
      gas: Number.MAX_SAFE_INTEGER,
      timeout_ms: 100,
    });
    overruns.push(performance.now() - t0 - 100);
    if (r.code !== 'ERR_COMPUTE_TIME_EXHAUSTED') throw new Error(`expected a deadline, got ${r.code}`);
    await sleep(100);
    const c0 = cpu('self') + guests.reduce((s, p) => s + cpu(p), 0);
    await sleep(1000);
    after.push(cpu('self') + guests.reduce((s, p) => s + cpu(p), 0) - c0);
  }
  rows.push([`${mode}: deadline overrun (median)`, `${median(overruns).toFixed(2)} ms`]);
  rows.push([`${mode}: CPU in the 1 s from 100 ms after the deadline (median)`, `${median(after)} ms`]);
  if (mode === 'process') {
    await sandbox.close();
  } else {
    console.log(rows.map((r) => r.join(' | ')).join('\n'));
    rows.length = 0;
    // The thread that missed its termination keeps running (and would keep this process alive):
    // the process results follow from a fresh process.
    console.log('(thread isolation leaves the guest running; exiting this process to stop it)');
    const { execFileSync } = await import('node:child_process');
    process.stdout.write(
      execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--process-only'], {
        encoding: 'utf8',
      }),
    );
    process.exit(0);
  }
}
console.log(rows.map((r) => r.join(' | ')).join('\n'));
