// @helm/parallel-verify benchmark: chain verification on the worker pool vs the single-threaded
// verifier of @helm/receipts (and vs bare node:crypto verify per core), for a long chain.
// Run: pnpm build && node bench/index.ts   (N=20000 by default)

import { createPublicKey, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createSigner, preAuthEncoding } from '@helm/crypto';
import { ReceiptVerifyPool } from '@helm/parallel-verify';
import { ReceiptChain, verifyReceiptChain } from '@helm/receipts';

const N = Number(process.env.N ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Rounds of the per-core CPU-time comparison (cheap and noise-prone: best of more runs). */
const CPU_ROUNDS = Number(process.env.CPU_ROUNDS ?? 6);
const signer = createSigner(new Uint8Array(32).fill(2));
const h = (n: number, c: string) => `sha256:${String(n).padStart(8, '0')}${c.repeat(56)}`;
const chain = new ReceiptChain({ signer, chainId: 'bench' });
const envelopes = Array.from(
  { length: N },
  (_, n) =>
    chain.mint({
      decision_id: h(n, 'a'),
      effect_id: h(n, 'b'),
      effect_class: 'fs.write',
      status: 'SUCCEEDED',
      verdict: 'ALLOW',
      reason_code: 'ALLOW',
      args_hash: h(n, 'c'),
      request_digest: h(n, '9'),
      output_hash: h(n, 'd'),
      session_id: 'session-0001',
      policy_hash: h(0, 'e'),
      tool: 'fs_write',
      principal: 'agent:alice',
      risk_tier: 'LOW',
      issued_at_ms: 1_764_115_200_000 + n,
      trust_seq: 1,
      trust_head: h(0, 'f'),
      evidence: { idempotency_key: `key-${n}` },
    }).envelope,
);
const keys = new Map([[signer.keyId, signer.publicKey]]);
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const publicKey = createPublicKey({
  key: Buffer.concat([SPKI, signer.publicKey]),
  format: 'der',
  type: 'spki',
});
const paes = envelopes.map((e) => preAuthEncoding(e.type, Buffer.from(e.payload, 'base64url')));
const sigs = envelopes.map((e) => Buffer.from((e.signatures[0] as { sig: string }).sig, 'base64url'));

const workers = availableParallelism();
const pool = new ReceiptVerifyPool({ size: workers });

async function time(f: () => unknown): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** CPU time (ms) of this process for a synchronous single-threaded run. */
function cpu(f: () => unknown): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

let serial = Number.POSITIVE_INFINITY;
let serialCpu = Number.POSITIVE_INFINITY;
let parallelCores = 0;
let bareCpu = Number.POSITIVE_INFINITY;
let parallel = Number.POSITIVE_INFINITY;
let bare = Number.POSITIVE_INFINITY;
await pool.verifyChain(envelopes.slice(0, 2000), { keys }); // warm the workers
for (let r = 0; r < ROUNDS; r++) {
  bare = Math.min(
    bare,
    await time(() => {
      for (let i = 0; i < N; i++)
        if (!verify(null, paes[i] as Uint8Array, publicKey, sigs[i] as Uint8Array)) throw new Error('bad');
    }),
  );
  serial = Math.min(
    serial,
    await time(() => {
      const res = verifyReceiptChain(envelopes, { keys: (k) => keys.get(k) });
      if (!res.ok) throw new Error(res.code);
    }),
  );
  const c0 = process.cpuUsage();
  const wall = await time(async () => {
    const res = await pool.verifyChain(envelopes, { keys });
    if (!res.ok) throw new Error(res.code);
  });
  const c = process.cpuUsage(c0);
  if (wall < parallel) {
    parallel = wall;
    parallelCores = (c.user + c.system) / 1000 / wall;
  }
}
// Per-core CPU time is measured with the pool closed: idle worker isolates would otherwise share
// the process's CPU accounting and GC with the single-threaded runs being compared.
await pool.close();
for (let r = 0; r < CPU_ROUNDS; r++) {
  bareCpu = Math.min(
    bareCpu,
    cpu(() => {
      for (let i = 0; i < N; i++) verify(null, paes[i] as Uint8Array, publicKey, sigs[i] as Uint8Array);
    }),
  );
  serialCpu = Math.min(
    serialCpu,
    cpu(() => verifyReceiptChain(envelopes, { keys: (k) => keys.get(k) })),
  );
}

const rate = (ms: number) => ((N / ms) * 1000).toFixed(0);
console.log(
  `@helm/parallel-verify bench (N=${N} receipts, ${workers} workers, best of ${ROUNDS} (per-core: ${CPU_ROUNDS}), node ${process.version})`,
);
console.log(
  'metric                                 | receipts/s | vs                            | ratio | target | result',
);
const perCore = bareCpu / serialCpu;
const load = (await import('node:os')).loadavg()[0]?.toFixed(1);
console.log(
  `(load average ${load} on ${workers} cores; per-core ratio uses CPU time, speedup uses wall time)`,
);
console.log(
  `single-thread verifyReceiptChain       | ${rate(serialCpu).padStart(10)} | bare node:crypto verify ${rate(bareCpu).padStart(6)} | ${perCore.toFixed(2)}  | ≥ 0.85 | ${perCore >= 0.85 ? 'PASS' : 'MISS'}`,
);
const speedup = serial / parallel;
console.log(
  `(pool run used ${parallelCores.toFixed(2)} cores on average: CPU time of all threads / wall time)`,
);
console.log(
  `pool.verifyChain (${workers} workers)             | ${rate(parallel).padStart(10)} | single-thread        ${rate(serial).padStart(9)} | ${speedup.toFixed(2)}× | ≥ 1.7× | ${speedup >= 1.7 ? 'PASS' : 'MISS'}`,
);
