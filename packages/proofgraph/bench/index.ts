// @helm/proofgraph benchmark. Run: pnpm build && node bench/index.ts
//  - checkpoint over 1,000,000 leaves (leaf hashes into a leaf-hash store + frontier + root + signed
//    checkpoint) vs 2,000,000 bare node:crypto SHA-256 computations; peak memory measured in a
//    fresh child process (maxRSS) so other phases do not pollute it;
//  - RFC 9162 inclusion-proof verification (20-element proof of a 1M tree);
//  - ProofGraph node append and whole-graph validation throughput (informative).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSigner } from '@helm/crypto';
import {
  InMemoryLeafHashStore,
  inclusionProof,
  MerkleFrontier,
  merkleLeafHash,
  ProofGraph,
  signCheckpoint,
  validateGraph,
  verifyInclusion,
} from '@helm/proofgraph';

const LEAVES = Number(process.env.LEAVES ?? 1_000_000);
const signer = createSigner(new Uint8Array(32).fill(2));

function leafData(buf: Uint8Array, i: number): Uint8Array {
  buf[0] = i & 255;
  buf[1] = (i >>> 8) & 255;
  buf[2] = (i >>> 16) & 255;
  buf[3] = (i >>> 24) & 255;
  return buf;
}

/** Child mode: build one checkpoint over LEAVES leaves, print JSON timings + peak memory. */
function checkpointChild(withStore: boolean): void {
  const data = new Uint8Array(32);
  let peakHeap = 0;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const store = new InMemoryLeafHashStore();
  const frontier = new MerkleFrontier();
  for (let i = 0; i < LEAVES; i++) {
    const h = merkleLeafHash(leafData(data, i));
    if (withStore) store.append(h);
    frontier.append(h);
    if ((i & 0x3ffff) === 0) {
      const mem = process.memoryUsage();
      peakHeap = Math.max(peakHeap, mem.heapUsed + mem.arrayBuffers);
    }
  }
  const cp = signCheckpoint(
    {
      log_id: 'bench',
      tree_size: LEAVES,
      root: frontier.root(),
      lamport_from: 1,
      lamport_to: LEAVES,
      anchor_required: false,
      issued_at_ms: 0,
    },
    signer,
  );
  const wallMs = performance.now() - t;
  const c = process.cpuUsage(cpu0);
  const ms = (c.user + c.system) / 1000;
  const mem = process.memoryUsage();
  peakHeap = Math.max(peakHeap, mem.heapUsed + mem.arrayBuffers);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      ms,
      maxRssMb,
      peakHeapMb: peakHeap / 2 ** 20,
      frontierNodes: frontier.nodes.length,
      root: cp.body.root_hash,
    }),
  );
}

function bareChild(): void {
  const leaf = new Uint8Array(33);
  const node = new Uint8Array(65);
  node[0] = 1;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < LEAVES; i++) {
    leaf[1] = i & 255;
    createHash('sha256').update(leaf).digest();
    createHash('sha256').update(node).digest();
  }
  const c = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({ ms: (c.user + c.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 }),
  );
}

const mode = process.argv[2];
if (mode === 'child-checkpoint') checkpointChild(true);
else if (mode === 'child-frontier') checkpointChild(false);
else if (mode === 'child-bare') bareChild();
else main();

function child(m: string): { ms: number; maxRssMb: number; peakHeapMb?: number; frontierNodes?: number } {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), m], {
    encoding: 'utf8',
    env: { ...process.env, LEAVES: String(LEAVES) },
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

function bestOf<T extends { ms: number }>(n: number, f: () => T): T {
  let best: T | undefined;
  for (let i = 0; i < n; i++) {
    const r = f();
    if (!best || r.ms < best.ms) best = r;
  }
  return best as T;
}

function main(): void {
  const rows: string[][] = [];
  const row = (
    metric: string,
    ours: string,
    base: string,
    baseline: string,
    ratio: string,
    target: string,
    pass: boolean | undefined,
  ) =>
    rows.push([
      metric,
      ours,
      base,
      baseline,
      ratio,
      target,
      pass === undefined ? 'info' : pass ? 'PASS' : 'MISS',
    ]);

  // 1. Checkpoint over 1M leaves, interleaved with the bare baseline.
  let bare = { ms: Number.POSITIVE_INFINITY, maxRssMb: 0 };
  let ours: { ms: number; maxRssMb: number; peakHeapMb?: number; frontierNodes?: number } = {
    ms: Number.POSITIVE_INFINITY,
    maxRssMb: 0,
  };
  let frontierOnly: typeof ours = { ms: Number.POSITIVE_INFINITY, maxRssMb: 0 };
  const rounds = Number(process.env.ROUNDS ?? 2);
  for (let i = 0; i < rounds; i++) {
    const b = child('child-bare');
    if (b.ms < bare.ms) bare = b;
    const o = child('child-checkpoint');
    if (o.ms < ours.ms) ours = o;
    const f = child('child-frontier');
    if (f.ms < frontierOnly.ms) frontierOnly = f;
  }
  const r1 = ours.ms / bare.ms;
  row(
    `checkpoint, ${LEAVES} leaves (+store)`,
    `${ours.ms.toFixed(0)} ms`,
    '2M bare SHA-256',
    `${bare.ms.toFixed(0)} ms`,
    `${r1.toFixed(2)}×`,
    '≤ 1.5×',
    r1 <= 1.5,
  );
  row(
    '  peak RSS / heap of that run',
    `${ours.maxRssMb.toFixed(0)} / ${ours.peakHeapMb?.toFixed(0)} MB`,
    'bare run RSS',
    `${bare.maxRssMb.toFixed(0)} MB`,
    '',
    '< 256 MB',
    ours.maxRssMb < 256,
  );
  const r2 = frontierOnly.ms / bare.ms;
  row(
    'checkpoint, frontier only (no store)',
    `${frontierOnly.ms.toFixed(0)} ms`,
    '2M bare SHA-256',
    `${bare.ms.toFixed(0)} ms`,
    `${r2.toFixed(2)}×`,
    '',
    undefined,
  );
  row(
    '  peak RSS, frontier hashes held',
    `${frontierOnly.maxRssMb.toFixed(0)} MB, ${frontierOnly.frontierNodes}`,
    '',
    '',
    '',
    '',
    undefined,
  );

  // 2. Inclusion-proof verification (proof of a 2^20-ish tree: 20 siblings).
  const store = new InMemoryLeafHashStore();
  const data = new Uint8Array(32);
  const frontier = new MerkleFrontier();
  const N = 1 << 20;
  for (let i = 0; i < N; i++) {
    const h = merkleLeafHash(leafData(data, i));
    store.append(h);
    frontier.append(h);
  }
  const root = frontier.root();
  const idx = 777_777;
  const proof = inclusionProof(store, idx, N);
  const leaf = store.leafHash(idx);
  const ITER = 20_000;
  const cpuMs = (c0: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const inc = bestOf(5, () => {
    const t = process.cpuUsage();
    for (let i = 0; i < ITER; i++)
      if (!verifyInclusion(idx, N, leaf, proof, root).ok) throw new Error('bad proof');
    return { ms: cpuMs(t) };
  });
  const incUs = (inc.ms / ITER) * 1000;
  const bareInc = bestOf(5, () => {
    const t = process.cpuUsage();
    const buf = new Uint8Array(65);
    for (let i = 0; i < ITER; i++)
      for (let j = 0; j < proof.length; j++) createHash('sha256').update(buf).digest();
    return { ms: cpuMs(t) };
  });
  row(
    `inclusion verify (${proof.length} siblings)`,
    `${incUs.toFixed(1)} µs`,
    `${proof.length} bare SHA-256`,
    `${((bareInc.ms / ITER) * 1000).toFixed(1)} µs`,
    `${(inc.ms / bareInc.ms).toFixed(2)}×`,
    '≤ 30 µs',
    incUs <= 30,
  );
  const gen = bestOf(3, () => {
    const t = performance.now();
    for (let i = 0; i < 2000; i++) inclusionProof(store, (i * 7919) % N, N);
    return { ms: performance.now() - t };
  });
  row(
    'inclusion proof generation (cached)',
    `${((gen.ms / 2000) * 1000).toFixed(1)} µs`,
    '',
    '',
    '',
    '',
    undefined,
  );

  // 3. ProofGraph append + validation (informative).
  const NODES = 3000;
  const g = new ProofGraph();
  const t3 = performance.now();
  let prev: string[] = [];
  for (let i = 0; i < NODES; i++) {
    const n = g.append(
      { kind: 'EFFECT', parents: prev, principal: 'agent:a', payload: { i }, issued_at_ms: i },
      signer,
    );
    prev = [n.hash];
  }
  const appendMs = performance.now() - t3;
  const items = g.rangeByLamport(1, NODES).map((n) => ({ envelope: n.envelope }));
  const keys = (k: string) => (k === signer.keyId ? signer.publicKey : undefined);
  const t4 = performance.now();
  const v = validateGraph(items, { keys });
  if (!v.ok) throw new Error(v.code);
  const valMs = performance.now() - t4;
  row('ProofGraph nodes appended/s', `${((NODES / appendMs) * 1000).toFixed(0)}`, '', '', '', '', undefined);
  row('ProofGraph nodes validated/s', `${((NODES / valMs) * 1000).toFixed(0)}`, '', '', '', '', undefined);

  console.log(
    `@helm/proofgraph bench (node ${process.version}, ${LEAVES} leaves; times are CPU time of the measuring process — the machine is shared)`,
  );
  const widths = [38, 18, 16, 12, 7, 9, 6];
  const head = ['metric', 'ours', 'baseline', 'baseline', 'ratio', 'target', 'result'];
  console.log(head.map((h, i) => h.padEnd(widths[i] as number)).join(' | '));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join(' | '));
}
