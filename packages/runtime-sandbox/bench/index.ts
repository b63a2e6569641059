// Benchmarks for @helm/runtime-sandbox (run after `pnpm build`: `node bench/index.ts`).
//  1. gas-metering overhead: the same kernel, unmetered vs instrumented, in-process, after warm-up;
//  2. warm call latency through the sandbox (cached module, pooled worker);
//  3. deadline overrun: how late a call with an infinite loop returns after its deadline.
import { createSandbox } from '@helm/runtime-sandbox';
import wabtInit from 'wabt';
import { instrumentModule } from '../dist/internal/instrument.js';

const wabt = await wabtInit();
const wat = (src: string): Uint8Array => {
  const m = wabt.parseWat('bench.wat', src, { bulk_memory: true });
  const out = new Uint8Array(m.toBinary({}).buffer);
  m.destroy();
  return out;
};

const KERNELS = [
  {
    name: 'loop-heavy hash (FNV-1a, 1M bytes)',
    arg: 1_000_000,
    src: `(module (memory (export "memory") 1)
      (func (export "_start"))
      (func (export "run") (param $n i32) (result i32) (local $h i32) (local $i i32)
        (local.set $h (i32.const 0x811c9dc5))
        (loop $l
          (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (i32.and (local.get $i) (i32.const 0xffff))))
            (i32.const 0x01000193)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (local.get $h)))`,
  },
  {
    name: 'call-heavy recursion (fib 26)',
    arg: 26,
    src: `(module (memory (export "memory") 1)
      (func (export "_start"))
      (func $fib (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
          (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                         (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
      (func (export "run") (param $n i32) (result i32) (call $fib (local.get $n))))`,
  },
  {
    name: 'memory-bound (random read-modify-write, 16 MiB)',
    arg: 200_000,
    src: `(module (memory (export "memory") 256)
      (func (export "_start"))
      (func (export "run") (param $n i32) (result i32) (local $x i32) (local $i i32) (local $a i32)
        (local.set $x (i32.const 12345))
        (loop $l
          (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
          (local.set $a (i32.and (local.get $x) (i32.const 0xfffffc)))
          (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (local.get $i)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (i32.load (i32.const 0))))`,
  },
];

function loadKernel(bytes: Uint8Array): { run: (n: number) => number; gas: WebAssembly.Global | undefined } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return {
    run: instance.exports.run as (n: number) => number,
    gas: instance.exports.__helm_gas as WebAssembly.Global | undefined,
  };
}

/** Best times of the plain and metered kernel, runs interleaved (A/B) so machine load hits both alike. */
function timePair(
  plainBytes: Uint8Array,
  meteredBytes: Uint8Array,
  arg: number,
): { plain: number; metered: number } {
  const kernels = [loadKernel(plainBytes), loadKernel(meteredBytes)];
  const samples: number[][] = [[], []];
  const results: number[] = [];
  for (let i = 0; i < 300; i++) {
    for (const [j, k] of kernels.entries()) {
      if (k.gas !== undefined) k.gas.value = 1n << 60n;
      const t0 = performance.now();
      results[j] = k.run(arg);
      const t1 = performance.now();
      if (i >= 50) (samples[j] as number[]).push(t1 - t0); // the first runs are warm-up (Liftoff → TurboFan)
    }
    if (results[0] !== results[1]) throw new Error('metered result differs');
  }
  // Minimum of the interleaved samples: on a shared machine noise only ever adds time.
  return { plain: Math.min(...(samples[0] as number[])), metered: Math.min(...(samples[1] as number[])) };
}

const rows: string[][] = [];
const overheads: number[] = [];
for (const k of KERNELS) {
  const plain = wat(k.src);
  const metered = instrumentModule(plain, {
    maxMemoryPages: 1024,
    maxTableElements: 1000,
    importPolicy: () => true,
  }).bytes;
  const t = timePair(plain, metered, k.arg);
  const a = { ms: t.plain };
  const b = { ms: t.metered };
  const overhead = b.ms / a.ms - 1;
  overheads.push(overhead);
  rows.push([
    k.name,
    a.ms.toFixed(2),
    b.ms.toFixed(2),
    `${(overhead * 100).toFixed(1)}%`,
    '≤ 40%',
    overhead <= 0.4 ? 'PASS' : 'MISS',
  ]);
}
const geomean = Math.exp(overheads.reduce((s, o) => s + Math.log(1 + o), 0) / overheads.length) - 1;
const worst = Math.max(...overheads);
rows.push([
  'geomean overhead',
  '',
  '',
  `${(geomean * 100).toFixed(1)}%`,
  '≤ 10%',
  geomean <= 0.1 ? 'PASS' : 'MISS',
]);
rows.push([
  'worst overhead',
  '',
  '',
  `${(worst * 100).toFixed(1)}%`,
  '≤ 40%',
  worst <= 0.4 ? 'PASS' : 'MISS',
]);

// Warm calls and deadline overrun through the real sandbox.
const sandbox = createSandbox({ poolSize: 1 });
const trivial = await sandbox.register(wat(`(module (memory (export "memory") 1) (func (export "_start")))`));
const limits = { gas: 1_000_000, timeout_ms: 5000, max_output_bytes: 1024 };
for (let i = 0; i < 50; i++) await sandbox.run(trivial, new Uint8Array(0), limits);
const warm: number[] = [];
for (let i = 0; i < 500; i++) {
  const t0 = performance.now();
  const r = await sandbox.run(trivial, new Uint8Array(0), limits);
  warm.push(performance.now() - t0);
  if (!r.ok) throw new Error('warm call failed');
}
warm.sort((a, b) => a - b);
const warmMedian = warm[Math.floor(warm.length / 2)] as number;
const warmP95 = warm[Math.floor(warm.length * 0.95)] as number;
rows.push([
  'warm call (median)',
  '',
  '',
  `${warmMedian.toFixed(3)} ms`,
  '≤ 0.5 ms',
  warmMedian <= 0.5 ? 'PASS' : 'MISS',
]);
rows.push(['warm call (p95)', '', '', `${warmP95.toFixed(3)} ms`, '(info)', '']);

const spin = await sandbox.register(
  wat(`(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))`),
);
const overruns: number[] = [];
for (let i = 0; i < 10; i++) {
  const timeout = 50;
  const t0 = performance.now();
  const r = await sandbox.run(spin, new Uint8Array(0), {
    gas: Number.MAX_SAFE_INTEGER,
    timeout_ms: timeout,
    max_output_bytes: 0,
  });
  const elapsed = performance.now() - t0;
  if (r.code !== 'ERR_COMPUTE_TIME_EXHAUSTED') throw new Error(`expected a deadline kill, got ${r.code}`);
  overruns.push(elapsed - timeout);
  await sandbox.run(trivial, new Uint8Array(0), limits); // let the replacement worker come up
}
overruns.sort((a, b) => a - b);
const overrunMedian = overruns[Math.floor(overruns.length / 2)] as number;
const overrunMax = overruns[overruns.length - 1] as number;
rows.push([
  'deadline overrun (median)',
  '',
  '',
  `${overrunMedian.toFixed(2)} ms`,
  '≤ 5 ms',
  overrunMedian <= 5 ? 'PASS' : 'MISS',
]);
rows.push(['deadline overrun (max of 10)', '', '', `${overrunMax.toFixed(2)} ms`, '(info)', '']);
// The machine's own timer lateness (no worker running): the floor under the overrun above.
const late: number[] = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 50));
  late.push(performance.now() - t0 - 50);
}
late.sort((a, b) => a - b);
rows.push([
  'plain setTimeout lateness (median)',
  '',
  '',
  `${(late[5] as number).toFixed(2)} ms`,
  '(floor)',
  '',
]);
await sandbox.close();

const header = ['benchmark', 'unmetered ms', 'metered ms', 'ours', 'target', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
