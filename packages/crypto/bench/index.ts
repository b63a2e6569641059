// @helm/crypto benchmark: `pnpm bench` (after `pnpm build`). Performance is measured here, never
// in tests. Each row is measured in interleaved rounds against its baseline (A B A B …) and the
// median round is reported, so load from other processes hits both sides alike.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import {
  canonicalBytes,
  canonicalize,
  createSigner,
  keyPairFromSeed,
  nobleBackend,
  nodeBackend,
  parseStrictJson,
  sha256,
  signEnvelope,
  verifyEd25519,
  verifyEnvelope,
} from '@helm/crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import canonicalizeNpm from 'canonicalize';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 150);

function round(fn: () => unknown): number {
  // returns ops/s for one round of ~ROUND_MS
  let n = 0;
  let batch = 1;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ROUND_MS) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    if (batch < 4096) batch *= 2;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Measure several functions in interleaved rounds; returns median ops/s per function. */
function measure(fns: (() => unknown)[]): number[] {
  for (const fn of fns) for (let i = 0; i < 200; i++) fn(); // warm-up
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < fns.length; i++) samples[i]?.push(round(fns[i] as () => unknown));
  }
  return samples.map(median);
}

interface Row {
  group: string;
  name: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  verdict: string;
}
const rows: Row[] = [];
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

/**
 * `pct`: ours as a percentage of the baseline's throughput (target = minimum fraction).
 * `cost`: how many times slower than the baseline ours is (target = maximum factor).
 */
function row(
  group: string,
  name: string,
  ours: number,
  base: number,
  unit: string,
  mode: 'pct' | 'cost',
  target?: number,
) {
  let ratio: string;
  let verdict = '';
  let targetText = '';
  if (mode === 'cost') {
    const cost = base / ours;
    ratio = `${cost.toFixed(2)}× cost`;
    if (target !== undefined) {
      targetText = `≤ ${target}× cost`;
      verdict = cost <= target ? 'PASS' : 'MISS';
    }
  } else {
    const r = ours / base;
    ratio = `${(r * 100).toFixed(1)}%`;
    if (target !== undefined) {
      targetText = `≥ ${(target * 100).toFixed(0)}%`;
      verdict = r >= target ? 'PASS' : 'MISS';
    }
  }
  rows.push({
    group,
    name,
    value: `${fmt(ours)} ${unit}`,
    baseline: `${fmt(base)} ${unit}`,
    ratio,
    target: targetText,
    verdict,
  });
}

// ── Ed25519 ──────────────────────────────────────────────────────────────────────────────────
const seed = new Uint8Array(32).map((_, i) => (i * 7 + 1) & 0xff);
const message = new Uint8Array(256).map((_, i) => i & 0xff);
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
const bareKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const barePub = createPublicKey(bareKey);
const { publicKey } = keyPairFromSeed(seed);
const nodeSigner = createSigner(seed, nodeBackend);
const nobleSigner = createSigner(seed, nobleBackend);
const signature = nodeSigner.sign(message);

{
  const [bare, node, noble] = measure([
    () => nodeSign(null, message, bareKey),
    () => nodeSigner.sign(message),
    () => nobleSigner.sign(message),
  ]) as [number, number, number];
  row('ed25519', 'sign 256 B — node backend', node, bare, 'ops/s', 'pct', 0.9);
  row('ed25519', 'sign 256 B — noble backend', noble, bare, 'ops/s', 'pct');
}
{
  const [bare, node, noble] = measure([
    () => nodeVerify(null, message, barePub, signature),
    () => verifyEd25519(publicKey, message, signature, nodeBackend).ok,
    () => verifyEd25519(publicKey, message, signature, nobleBackend).ok,
  ]) as [number, number, number];
  row('ed25519', 'verify 256 B — node backend', node, bare, 'ops/s', 'pct', 0.9);
  row('ed25519', 'verify 256 B — noble backend', noble, bare, 'ops/s', 'pct');
}
{
  let i = 0;
  const nextSeed = () => {
    const s = Uint8Array.from(seed);
    s[0] = i & 0xff;
    s[1] = (i++ >> 8) & 0xff;
    return s;
  };
  const [bare, node, noble] = measure([
    () => {
      const k = createPrivateKey({
        key: Buffer.concat([pkcs8.subarray(0, 16), nextSeed()]),
        format: 'der',
        type: 'pkcs8',
      });
      return createPublicKey(k).export({ format: 'der', type: 'spki' });
    },
    () => keyPairFromSeed(nextSeed(), nodeBackend),
    () => keyPairFromSeed(nextSeed(), nobleBackend),
  ]) as [number, number, number];
  row('ed25519', 'keygen from seed (+ key id) — node', node, bare, 'ops/s', 'pct');
  row('ed25519', 'keygen from seed (+ key id) — noble', noble, bare, 'ops/s', 'pct');
}

// ── JCS ──────────────────────────────────────────────────────────────────────────────────────
const small = {
  tool: 'http.request',
  method: 'POST',
  url: 'https://api.example.com/v1/messages?lang=en',
  headers: {
    'content-type': 'application/json',
    accept: 'application/json',
    'x-request-id': 'req_8f14e45fceea167a',
  },
  body: {
    to: ['alice@example.com', 'bob@example.com'],
    subject: 'Quarterly report',
    text: 'Hello team,\nthe report is attached. Totals: 1234.5 EUR',
    priority: 3,
    draft: false,
    tags: ['finance', 'q3', 'report'],
  },
  timeout_ms: 30000,
  retries: 2,
  idempotency_key: 'c0ffee-2026-11-26',
  meta: { agent: 'agent:alice', session: 'sess_42', score: 0.875, nested: { a: null, b: true } },
};
const large = {
  kind: 'dataset',
  rows: Array.from({ length: 520 }, (_, i) => ({
    id: i,
    name: `row-${i}`,
    email: `user${i}@example.com`,
    score: i / 7,
    active: i % 3 === 0,
    tags: ['a', 'b', `t${i % 11}`],
    address: { street: `${i} Main St`, city: 'Zürich', zip: `80${i % 100}` },
    note: i % 10 === 0 ? 'needs "quotes" and\ttabs' : null,
  })),
};
const smallBytes = JSON.stringify(small).length;
const largeBytes = JSON.stringify(large).length;
const encoder = new TextEncoder();

for (const [label, value, bytes, target] of [
  ['small tool args', small, smallBytes, 4],
  ['large object', large, largeBytes, undefined],
] as const) {
  const [stringify, ours, npm, oursBytes, stringifyBytes] = measure([
    () => JSON.stringify(value),
    () => canonicalize(value),
    () => canonicalizeNpm(value),
    () => canonicalBytes(value),
    () => encoder.encode(JSON.stringify(value)),
  ]) as [number, number, number, number, number];
  const kb = bytes >= 10_000 ? `${(bytes / 1024).toFixed(0)} KB` : `${bytes} B`;
  row('jcs', `canonicalize ${label} (${kb}) vs JSON.stringify`, ours, stringify, 'ops/s', 'cost', target);
  row('jcs', `canonicalize npm ${label} vs JSON.stringify`, npm, stringify, 'ops/s', 'cost');
  row('jcs', `canonicalBytes ${label} vs stringify+encode`, oursBytes, stringifyBytes, 'ops/s', 'cost');
  const text = JSON.stringify(value);
  const [parse, strict] = measure([() => JSON.parse(text), () => parseStrictJson(text)]) as [number, number];
  row('json', `parseStrictJson ${label} vs JSON.parse`, strict, parse, 'ops/s', 'cost');
}

// ── SHA-256 ──────────────────────────────────────────────────────────────────────────────────
for (const size of [1024, 1024 * 1024]) {
  const data = new Uint8Array(size).map((_, i) => i & 0xff);
  const [bare, ours, noble] = measure([
    () => createHash('sha256').update(data).digest(),
    () => sha256(data),
    () => nobleSha256(data),
  ]) as [number, number, number];
  const mb = (ops: number) => (ops * size) / (1024 * 1024);
  const label = size >= 1024 * 1024 ? '1 MiB' : '1 KiB';
  row('sha256', `sha256 ${label} (node) vs bare createHash`, mb(ours), mb(bare), 'MB/s', 'pct');
  row('sha256', `sha256Portable ${label} (noble) vs bare createHash`, mb(noble), mb(bare), 'MB/s', 'pct');
}

// ── envelopes ────────────────────────────────────────────────────────────────────────────────
{
  const body = { type: 'helm.bench.v1', args: small };
  const env = signEnvelope(body, [nodeSigner]);
  const lookup = (id: string) => (id === nodeSigner.keyId ? nodeSigner.publicKey : undefined);
  const [signEnv, verifyEnv, bareSign, bareVerify] = measure([
    () => signEnvelope(body, [nodeSigner]),
    () => verifyEnvelope(env, 'helm.bench.v1', lookup),
    () => nodeSign(null, message, bareKey),
    () => nodeVerify(null, message, barePub, signature),
  ]) as [number, number, number, number];
  row('envelope', 'signEnvelope (~600 B body) vs bare sign', signEnv, bareSign, 'ops/s', 'pct');
  row('envelope', 'verifyEnvelope (~600 B body) vs bare verify', verifyEnv, bareVerify, 'ops/s', 'pct');
}

// ── report ───────────────────────────────────────────────────────────────────────────────────
const headers: Row = {
  group: 'group',
  name: 'measurement',
  value: 'ours',
  baseline: 'baseline',
  ratio: 'ratio',
  target: 'target',
  verdict: 'result',
};
const cols = Object.keys(headers) as (keyof Row)[];
const widths = cols.map((c) => Math.max(headers[c].length, ...rows.map((r) => r[c].length)));
const line = (r: Row) => `| ${cols.map((c, i) => r[c].padEnd(widths[i] as number)).join(' | ')} |`;
console.log(
  `@helm/crypto bench — node ${process.version}, ${ROUNDS} interleaved rounds × ${ROUND_MS} ms, median`,
);
console.log(line(headers));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
const misses = rows.filter((r) => r.verdict === 'MISS');
console.log(misses.length === 0 ? 'all targets met' : `${misses.length} target(s) missed`);
