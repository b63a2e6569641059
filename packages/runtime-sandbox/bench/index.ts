// Benchmarks for @helm/runtime-sandbox (run after `pnpm build`: `node bench/index.ts`).
//  1. gas-metering overhead: the same kernel, unmetered vs instrumented, in-process, after warm-up;
//  2. warm call latency through the sandbox (cached module, pooled worker);
//  3. deadline overrun: how late a call with an infinite loop returns after its deadline;
//  4. NaN canonicalization: a float kernel instrumented with and without it;
//  5. registration: instrumentation vs WebAssembly.validate over adversarial module shapes;
//  6. gas per CPU second over a corpus of adversarial modules (tight loops, bulk ops, host calls,
//     instantiation), judged against the band of docs/spec/sandbox.md §"Gas per CPU second".
// Arguments pick sections (default all): overhead, nan, register, calls, gas-rate
// (e.g. `node bench/index.ts register`).
import { createSandbox } from '@helm/runtime-sandbox';
import wabtInit from 'wabt';
import { instrumentModule } from '../dist/internal/instrument.js';
import { FAMILY } from '../test/helpers/shapes.ts';

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

const SECTIONS = ['overhead', 'nan', 'register', 'calls', 'gas-rate'];
const picked = process.argv.slice(2);
for (const p of picked)
  if (!SECTIONS.includes(p)) throw new Error(`unknown section ${p} (${SECTIONS.join(', ')})`);
const want = (section: string): boolean => picked.length === 0 || picked.includes(section);

const rows: string[][] = [];
const overheads: number[] = [];
if (want('overhead')) {
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
}

// NaN canonicalization: the same float kernel instrumented with and without it.
if (want('nan')) {
  const floatKernel = wat(`(module (memory (export "memory") 1)
    (func (export "_start"))
    (func (export "run") (param $n i32) (result i32) (local $i i32) (local $x f64) (local $s f64)
      (local.set $x (f64.const 1.0001))
      (loop $l
        (local.set $s (f64.add (f64.mul (local.get $s) (f64.const 0.999)) (f64.sqrt (local.get $x))))
        (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (i32.trunc_sat_f64_s (local.get $s))))`);
  const opts = { maxMemoryPages: 1024, maxTableElements: 1000, importPolicy: () => true };
  const off = instrumentModule(floatKernel, { ...opts, canonicalizeNaN: false }).bytes;
  const on = instrumentModule(floatKernel, opts).bytes;
  const t = timePair(off, on, 1_000_000);
  const cost = t.metered / t.plain - 1;
  rows.push([
    'NaN canonicalization (float kernel, 1M iterations)',
    t.plain.toFixed(2),
    t.metered.toFixed(2),
    `${(cost * 100).toFixed(1)}%`,
    '(info)',
    '',
  ]);
}

// Registration in linear time: instrumentation (to its verdict: accepted or refused) vs
// WebAssembly.validate of the same module, over the generated family of adversarial shapes up to
// the 16 MiB module limit. Best of 5 runs each, interleaved (load on a shared machine only adds).
// The gate is on wall time. Also reported: CPU time (process-wide), because V8 validates a large
// module's functions on several threads when cores are free — the wall-time ratio then compares
// one thread against several, and depends on how busy the machine is.
if (want('register')) {
  const opts = { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: () => true };
  // Both forms: a preview1 module's, and a component core module's (`sharedGas`: the module is
  // first rewritten to import its counter, renumbering its defined globals — one more pass).
  const verdict = (bytes: Uint8Array, sharedGas = false): string => {
    try {
      instrumentModule(bytes, { ...opts, sharedGas });
      return 'ok';
    } catch {
      return 'refused';
    }
  };
  let worst = { ratio: 0, what: '' };
  let worstCpu = { ratio: 0, what: '' };
  for (const shape of FAMILY) verdict(shape.build(200_000)); // warm-up
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  /** [wall ms, CPU ms] of one call. */
  const time = (f: () => void): [number, number] => {
    const c0 = cpuMs();
    const t0 = performance.now();
    f();
    return [performance.now() - t0, cpuMs() - c0];
  };
  for (const size of [1 << 20, 4 << 20, (16 << 20) - (64 << 10)]) {
    for (const shape of FAMILY) {
      const bytes = shape.build(size);
      // (a shape capped by a module limit stops growing: measured once)
      if (bytes.length > 16 << 20 || bytes.length < size / 2 || !WebAssembly.validate(bytes)) continue;
      const validate: Array<[number, number]> = [];
      const instrument: Array<[number, number]> = [];
      const shared: Array<[number, number]> = [];
      let result = '';
      let sharedResult = '';
      for (let i = 0; i < 5; i++) {
        validate.push(time(() => WebAssembly.validate(bytes)));
        instrument.push(
          time(() => {
            result = verdict(bytes);
          }),
        );
        shared.push(
          time(() => {
            sharedResult = verdict(bytes, true);
          }),
        );
      }
      const best = (xs: Array<[number, number]>, k: 0 | 1): number => Math.min(...xs.map((x) => x[k]));
      for (const [form, times, verdictOf] of [
        ['', instrument, result],
        [', component', shared, sharedResult],
      ] as const) {
        const ratio = best(times, 0) / best(validate, 0);
        const cpuRatio = best(times, 1) / best(validate, 1);
        const what = `${shape.name}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB${form} (${verdictOf})`;
        if (ratio > worst.ratio) worst = { ratio, what };
        if (cpuRatio > worstCpu.ratio) worstCpu = { ratio: cpuRatio, what };
        rows.push([
          `register: ${what} (validate | instrument ms; CPU-time ratio)`,
          best(validate, 0).toFixed(1),
          best(times, 0).toFixed(1),
          `${ratio.toFixed(1)}× (CPU ${cpuRatio.toFixed(1)}×)`,
          '(info)',
          '',
        ]);
      }
    }
  }
  // The gate is judged on CPU time (process.cpuUsage, all threads): on a shared host the wall
  // clock of a 2–20 ms validate measures the neighbours as much as the instrumenter.
  rows.push([
    `register: worst instrument/validate wall-time ratio (${worst.what})`,
    '',
    '',
    `${worst.ratio.toFixed(1)}×`,
    '(info)',
    '',
  ]);
  rows.push([
    `register: worst instrument/validate CPU-time ratio (${worstCpu.what})`,
    '',
    '',
    `${worstCpu.ratio.toFixed(1)}×`,
    '≤ 10×',
    worstCpu.ratio <= 10 ? 'PASS' : 'MISS',
  ]);
}

// Warm calls and deadline overrun through the real sandbox.
if (want('calls')) {
  const sandbox = createSandbox({ poolSize: 1 });
  const trivial = await sandbox.register(
    wat(`(module (memory (export "memory") 1) (func (export "_start")))`),
  );
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
}

// ---- Gas per CPU second (issue 15 §2; docs/spec/sandbox.md §"Gas per CPU second") ----
// A corpus of adversarial modules — tight loops, every bulk instruction at full length and at its
// smallest, host calls at their worst arguments, and instantiation-only modules (tables, element
// and data segments, global initializers at their limits) — each run in-process: a loop module
// until its gas runs out, with budgets growing ×4 until the run takes ≥ 40 ms of CPU; an
// instantiation module instantiated (and its empty `_start` run) repeatedly until ≥ 40 ms of CPU.
// Reported: gas consumed per CPU second, the best of 3 rounds (on a shared machine neighbours only
// add CPU time — cache and memory-bandwidth contention — so the highest rate is the machine's).
// Documented band (sandbox.md): every row within [FLOOR, CEILING]. Below the floor, an instruction,
// host call or instantiation step does work its gas does not pay for (before issue 15 these rows
// sat at ~10^0–10^3: 128 GiB of memory.fill for 24 002 gas, 64 MiB of random_get for 98); above
// the ceiling, gas is charged for work not done and a budget buys far less than it should.
if (want('gas-rate')) {
  const { runGuest } = await import('../dist/internal/guest-run.js');
  const { preview1ImportPolicy } = await import('../dist/internal/sandbox.js');
  const { instantiationCost } = await import('../dist/internal/instantiation-cost.js');
  const parse = (src: string): Uint8Array => {
    const m = wabt.parseWat('rate.wat', src, { bulk_memory: true, reference_types: true });
    const out = new Uint8Array(m.toBinary({}).buffer);
    m.destroy();
    return out;
  };
  const imp = (name: string, sig: string) =>
    `(import "wasi_snapshot_preview1" "${name}" (func $${name} ${sig}))`;
  const forever = (prelude: string, body: string, pages = 1024) =>
    `(module ${prelude} (memory (export "memory") ${pages}) (func (export "_start") (loop $l ${body} (br $l))))`;
  const iovecs = (n: number, len: number) =>
    Array.from(
      { length: n },
      (_, i) =>
        `(i32.store (i32.const ${4096 + i * 8}) (i32.const 64)) (i32.store (i32.const ${4100 + i * 8}) (i32.const ${len}))`,
    ).join(' ');
  const FD_WRITE = imp('fd_write', '(param i32 i32 i32 i32) (result i32)');
  const FD_READ = imp('fd_read', '(param i32 i32 i32 i32) (result i32)');
  const RANDOM = imp('random_get', '(param i32 i32) (result i32)');
  const withSetup = (prelude: string, setup: string, body: string) =>
    `(module ${prelude} (memory (export "memory") 16) (func (export "_start") ${setup} (loop $l ${body} (br $l))))`;
  const CORPUS: Array<[string, string]> = [
    [
      'tight loop (i32 counter)',
      forever('', '(global.set $g (i32.add (global.get $g) (i32.const 1)))').replace(
        '(memory',
        '(global $g (mut i32) (i32.const 0)) (memory',
      ),
    ],
    ['memory.fill 64 MiB', forever('', '(memory.fill (i32.const 0) (i32.const 1) (i32.const 0x4000000))')],
    [
      'memory.copy 32 MiB',
      forever('', '(memory.copy (i32.const 0) (i32.const 0x2000000) (i32.const 0x2000000))'),
    ],
    [
      'memory.copy 64 MiB − 1 (overlapping)',
      forever('', '(memory.copy (i32.const 1) (i32.const 0) (i32.const 0x3ffffff))'),
    ],
    [
      'memory.fill 16 B (smallest charged length)',
      forever('', '(memory.fill (i32.const 0) (i32.const 1) (i32.const 16))', 1),
    ],
    [
      'memory.init 64 KiB',
      forever(
        `(data $d "${'\\ab'.repeat(65536)}")`,
        '(memory.init $d (i32.const 0) (i32.const 0) (i32.const 65536))',
      ),
    ],
    ['memory.grow (fails at the cap)', forever('', '(drop (memory.grow (i32.const 1)))', 1)],
    [
      'table.fill 100 000',
      forever(
        '(table $t 100000 funcref)',
        '(table.fill $t (i32.const 0) (ref.null func) (i32.const 100000))',
      ),
    ],
    [
      'table.copy 50 000',
      forever(
        '(table $t 100000 funcref)',
        '(table.copy $t $t (i32.const 0) (i32.const 50000) (i32.const 50000))',
      ),
    ],
    [
      'table.fill 1',
      forever('(table $t 1 funcref)', '(table.fill $t (i32.const 0) (ref.null func) (i32.const 1))', 1),
    ],
    [
      'table.init 20 000',
      forever(
        `(table $t 100000 funcref) (func $f) (elem $e func ${'$f '.repeat(20000)})`,
        '(table.init $t $e (i32.const 0) (i32.const 0) (i32.const 20000))',
      ),
    ],
    [
      'table.grow (to the cap, then fails)',
      forever('(table $t 0 100000 externref)', '(drop (table.grow $t (ref.null extern) (i32.const 50000)))'),
    ],
    ['sched_yield', forever(imp('sched_yield', '(result i32)'), '(drop (call $sched_yield))', 1)],
    [
      'clock_time_get',
      forever(
        imp('clock_time_get', '(param i32 i64 i32) (result i32)'),
        '(drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 64)))',
        1,
      ),
    ],
    [
      'path_open (denied)',
      forever(
        imp('path_open', '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)'),
        '(drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))',
        1,
      ),
    ],
    ['random_get 16 B', forever(RANDOM, '(drop (call $random_get (i32.const 64) (i32.const 16)))', 2)],
    ['random_get 64 KiB', forever(RANDOM, '(drop (call $random_get (i32.const 64) (i32.const 65536)))', 2)],
    [
      'random_get 64 MiB (EINVAL)',
      forever(RANDOM, '(drop (call $random_get (i32.const 0) (i32.const 0x4000000)))'),
    ],
    [
      'fd_write 1 B',
      withSetup(
        FD_WRITE,
        iovecs(1, 1),
        '(drop (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1) (i32.const 0)))',
      ),
    ],
    [
      'fd_write 1,024 empty iovecs',
      withSetup(
        FD_WRITE,
        iovecs(1024, 0),
        '(drop (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1024) (i32.const 0)))',
      ),
    ],
    [
      'fd_write 64 KiB',
      withSetup(
        FD_WRITE,
        iovecs(1, 65536),
        '(drop (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1) (i32.const 0)))',
      ),
    ],
    [
      'fd_read 1,024 iovecs (EOF)',
      withSetup(
        FD_READ,
        iovecs(1024, 64),
        '(drop (call $fd_read (i32.const 0) (i32.const 4096) (i32.const 1024) (i32.const 0)))',
      ),
    ],
  ];
  // Instantiation only: the work happens in `new WebAssembly.Instance`, charged before it
  // (instantiationCost, sandbox.md §"Instantiation cost"), at the module limits' worst.
  const empty = '(memory (export "memory") 1) (func (export "_start"))';
  const INSTANTIATION: Array<[string, string]> = [
    [
      'instantiate: 10 tables × 100 000 funcref',
      `(module ${'(table 100000 100000 funcref) '.repeat(10)} ${empty})`,
    ],
    [
      'instantiate: element segment, 100 000 entries',
      `(module (table 100000 100000 funcref) (func $f) (elem (i32.const 0) func ${'$f '.repeat(100_000)}) ${empty})`,
    ],
    [
      'instantiate: data segment, 1 MiB',
      `(module (memory (export "memory") 16 16) (data (i32.const 0) "${'\\ab'.repeat(1 << 20)}") (func (export "_start")))`,
    ],
    ['instantiate: 90 000 i64 globals', `(module ${'(global i64 (i64.const 7)) '.repeat(90_000)} ${empty})`],
    ['instantiate: 90 000 i32 globals', `(module ${'(global i32 (i32.const 7)) '.repeat(90_000)} ${empty})`],
  ];
  // The band (sandbox.md §"Gas per CPU second"). Floor: ≤ 20 ns of CPU per unit of gas, so the
  // CLI's 5 000 000 gas is at most ~0.1 s of CPU whatever the guest does; memory-bound rows (a
  // 32 MiB memory.copy: 1 gas per 16 bytes) measure ~1e8 here and drop toward it when neighbours
  // share the memory bus. Ceiling: ≥ 10 ps of CPU per unit of gas (a tight loop, where regions
  // over-approximate, measures ~1e10).
  const FLOOR = 5e7;
  const CEILING = 1e11;
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const opts = { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: preview1ImportPolicy };
  const run = (module: WebAssembly.Module, instantiationGas: number, gas: number) =>
    runGuest({
      module,
      stdin: new Uint8Array(0),
      gas,
      instantiationGas,
      maxOutputBytes: 1 << 26,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    });
  /** One round of a loop module: gas per CPU second of the first run (budgets ×4) taking ≥ 40 ms. */
  const loopRate = (name: string, module: WebAssembly.Module, instantiationGas: number): number => {
    let rate = 0;
    for (let gas = 256; gas <= 2 ** 40; gas *= 4) {
      const c0 = cpuMs();
      const r = run(module, instantiationGas, instantiationGas + gas);
      const ms = cpuMs() - c0;
      rate = r.gas_used / (ms / 1000);
      if (
        r.code !== 'ERR_COMPUTE_GAS_EXHAUSTED' &&
        r.code !== 'ERR_COMPUTE_OUTPUT_EXHAUSTED' &&
        r.code !== 'ERR_COMPUTE_MEMORY_EXHAUSTED'
      )
        throw new Error(`${name}: unexpected ${r.code}`);
      if (ms >= 40) break;
    }
    return rate;
  };
  /** One round of an instantiation module: total gas per total CPU second over ≥ 40 ms of runs. */
  const instantiationRate = (name: string, module: WebAssembly.Module, instantiationGas: number): number => {
    let gas = 0;
    let ms = 0;
    for (let i = 0; i < 10_000 && ms < 40; i++) {
      const c0 = cpuMs();
      const r = run(module, instantiationGas, instantiationGas + 1000);
      ms += cpuMs() - c0;
      if (!r.ok) throw new Error(`${name}: unexpected ${r.code}`);
      gas += r.gas_used;
    }
    return gas / (ms / 1000);
  };
  const rates: Array<[string, number]> = [];
  for (const [kind, corpus] of [
    ['loop', CORPUS],
    ['instantiation', INSTANTIATION],
  ] as const) {
    for (const [name, src] of corpus) {
      const bytes = instrumentModule(parse(src), opts).bytes;
      const module = new WebAssembly.Module(bytes);
      const instGas = instantiationCost(bytes);
      let rate = 0;
      for (let round = 0; round < 3; round++) {
        const r =
          kind === 'loop' ? loopRate(name, module, instGas) : instantiationRate(name, module, instGas);
        rate = Math.max(rate, r);
      }
      rates.push([name, rate]);
      rows.push([
        `gas/CPU-s: ${name}`,
        '',
        '',
        rate.toExponential(2),
        '5e7 – 1e11',
        rate >= FLOOR && rate <= CEILING ? 'PASS' : 'MISS',
      ]);
    }
  }
  const [minName, min] = rates.reduce((a, b) => (b[1] < a[1] ? b : a));
  const [maxName, max] = rates.reduce((a, b) => (b[1] > a[1] ? b : a));
  rows.push([
    `gas/CPU-s band: min over corpus (${minName})`,
    '',
    '',
    min.toExponential(2),
    '≥ 5e7',
    min >= FLOOR ? 'PASS' : 'MISS',
  ]);
  rows.push([
    `gas/CPU-s band: max over corpus (${maxName})`,
    '',
    '',
    max.toExponential(2),
    '≤ 1e11',
    max <= CEILING ? 'PASS' : 'MISS',
  ]);
  rows.push(['gas/CPU-s band: max / min', '', '', `${(max / min).toFixed(0)}×`, '(info)', '']);
}
// ---- end gas per CPU second ----

const header = ['benchmark', 'unmetered ms', 'metered ms', 'ours', 'target', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
