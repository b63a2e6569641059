// Export and verify time for a pack of N receipts (each with its decision, ProofGraph node and
// recorded request), serial and on the worker pool, verifying the pack file entry by entry
// (verifyEvidencePackFile, as `helm verify` does); peak RSS of a verify-only process; the ratios
// serial / bare Ed25519 verification of every signature in the pack, and serial / 2 workers.
// BENCH_MODE=bytes verifies the bytes in memory (verifyEvidencePack) instead.
// Run: pnpm build && pnpm bench   (sizes: BENCH_SIZES=1000,10000,100000; default 1000,10000)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DECISION_TYPE, type SignedEnvelope } from '@helm/contracts';
import {
  canonicalBytes,
  createSigner,
  digest,
  fromBase64Url,
  preAuthEncoding,
  signEnvelope,
  verifyEd25519,
} from '@helm/crypto';
import { buildEvidencePack, verifyEvidencePack, verifyEvidencePackFile } from '@helm/evidencepack';
import { ProofGraph } from '@helm/proofgraph';
import { ReceiptChain } from '@helm/receipts';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  TrustRegistry,
  trustEventDigest,
} from '@helm/trust';

/**
 * This process's peak RSS: VmHWM of /proc/self/status (its own address space). Not
 * resourceUsage().maxRSS: Linux carries that value across exec, so a child spawned by a parent
 * holding the pack would report the parent's size.
 */
function peakRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

// Verify-only child: read the pack, verify it, print time and peak RSS (the process holds nothing else).
if (process.env.BENCH_VERIFY_FILE) {
  const file = process.env.BENCH_VERIFY_FILE;
  const workers = Number(process.env.BENCH_WORKERS ?? 0);
  const options = { trustAnchor: process.env.BENCH_ANCHOR as string, workers, parallelThreshold: 1 };
  const bytes = process.env.BENCH_MODE === 'bytes' ? new Uint8Array(readFileSync(file)) : undefined;
  const t = performance.now();
  const r = bytes ? await verifyEvidencePack(bytes, options) : await verifyEvidencePackFile(file, options);
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, status: r.status, rssMB: peakRssMB() }));
  process.exit(0);
}

if (!process.env.BENCH_N) {
  // Parent: one child per size (so each peak RSS is its own).
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
  for (const n of sizes) {
    const r = spawnSync(process.execPath, [process.argv[1] as string], {
      env: { ...process.env, BENCH_N: String(n) },
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}

const N = Number(process.env.BENCH_N);
const seed = (n: number) => new Uint8Array(32).fill(n);
const root = createSigner(seed(1));
const executor = createSigner(seed(2));
const guardian = createSigner(seed(3));
const genesis = createGenesisEvent({ registry: 'bench', rootKeys: [root.publicKey], rootThreshold: 1 }, [
  root,
]);
const registry = TrustRegistry.fromGenesis(genesis);
commitTrustEvent(registry, { kind: 'key_publish', publicKey: executor.publicKey, roles: ['executor'] }, [
  root,
]);
commitTrustEvent(registry, { kind: 'key_publish', publicKey: guardian.publicKey, roles: ['guardian'] }, [
  root,
]);

const t0 = performance.now();
const chain = new ReceiptChain({ signer: executor, chainId: 'bench' });
const graph = new ProofGraph();
const receipts: SignedEnvelope[] = [];
const decisions: SignedEnvelope[] = [];
const requests: { lamport: number; body: unknown }[] = [];
let parent: string | undefined;
for (let i = 0; i < N; i++) {
  const args = { path: `/data/${i}` };
  const argsHash = digest(canonicalBytes(args));
  const request = { tool: 'files.read', principal: 'alice', args };
  const decisionId = digest(canonicalBytes({ i }));
  decisions.push(
    signEnvelope(
      {
        type: DECISION_TYPE,
        decision_id: decisionId,
        verdict: 'ALLOW',
        reason_code: 'ALLOW',
        args_hash: argsHash,
        tool: 'files.read',
        principal: 'alice',
        decided_at_ms: i,
      },
      [guardian],
    ),
  );
  const m = chain.prepare({
    decision_id: decisionId,
    effect_id: null,
    effect_class: 'fs.read',
    status: 'SUCCEEDED',
    verdict: 'ALLOW',
    reason_code: 'ALLOW',
    args_hash: argsHash,
    request_digest: digest(canonicalBytes(request)),
    output_hash: digest(canonicalBytes({ i })),
    session_id: 'bench',
    policy_hash: `sha256:${'ab'.repeat(32)}`,
    tool: 'files.read',
    principal: 'alice',
    risk_tier: 'LOW',
    issued_at_ms: i,
    trust_seq: registry.seq,
    trust_head: registry.head,
  });
  chain.commit(m);
  receipts.push(m.envelope);
  parent = graph.append(
    {
      kind: 'EFFECT',
      parents: parent ? [parent] : [],
      principal: 'alice',
      payload: m.envelope,
      issued_at_ms: i,
    },
    executor,
  ).hash;
  requests.push({
    lamport: m.body.lamport,
    body: { request, clock_ms: i },
  });
}
const setupMs = performance.now() - t0;
const input = {
  producer: 'bench',
  chainId: 'bench',
  sessionId: 'bench',
  receipts,
  decisions,
  nodes: graph.rangeByLamport(1, N + 1).map((x) => ({ envelope: x.envelope, payload: x.payload })),
  trustSnapshot: exportTrustSnapshot(registry) as unknown as { genesis: string },
  policies: [],
  tools: [{ type: 'helm.tool.v1', name: 'files.read', input_schema: {}, output_schema: {} }],
  requests,
};
const t1 = performance.now();
const pack = buildEvidencePack(input, executor);
const exportMs = performance.now() - t1;
const anchor = trustEventDigest(genesis);

// Bare Ed25519: every signature in the pack (receipts, decisions, nodes, manifest), PAE prepared
// beforehand, one core.
const envelopes = [
  ...receipts,
  ...decisions,
  ...input.nodes.map((n) => n.envelope),
  // the manifest envelope (Ed25519 is deterministic: the same bytes as the pack's)
  signEnvelope(pack.manifest as unknown as { type: string }, [executor]),
];
const keyOf = new Map([executor, guardian, root].map((s) => [s.keyId, s.publicKey]));
const jobs = envelopes.flatMap((e) =>
  e.signatures.map((s) => ({
    key: keyOf.get(s.keyid) as Uint8Array,
    msg: preAuthEncoding(e.type, fromBase64Url(e.payload) as Uint8Array),
    sig: fromBase64Url(s.sig) as Uint8Array,
  })),
);
const tb = performance.now();
let bad = 0;
for (const j of jobs) if (!verifyEd25519(j.key, j.msg, j.sig).ok) bad++;
const bareMs = performance.now() - tb;
if (bad) throw new Error(`${bad} bare verifications failed`);

// BENCH_KEEP_DIR keeps the pack (pack-<N>.tar, anchor in pack-<N>.anchor) for runs of the verify
// child alone: BENCH_VERIFY_FILE=… BENCH_ANCHOR=… BENCH_WORKERS=0|2 node bench/index.ts
const keep = process.env.BENCH_KEEP_DIR;
const dir = keep ?? mkdtempSync(join(tmpdir(), 'helm-bench-'));
const file = join(dir, `pack-${N}.tar`);
writeFileSync(file, pack.bytes);
if (keep) writeFileSync(join(dir, `pack-${N}.anchor`), anchor);
const verifyIn = (workers: number) => {
  const r = spawnSync(process.execPath, [process.argv[1] as string], {
    env: {
      ...process.env,
      BENCH_N: '',
      BENCH_VERIFY_FILE: file,
      BENCH_ANCHOR: anchor,
      BENCH_WORKERS: String(workers),
    },
    encoding: 'utf8',
  });
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
    ms: number;
    status: string;
    rssMB: number;
  };
};
const serial = verifyIn(0);
const parallel = verifyIn(2);
if (!keep) rmSync(dir, { recursive: true, force: true });

console.log(
  `\nEvidencePack of ${N} receipts (+ ${N} decisions, ${N} nodes, ${N} requests): ${(pack.bytes.length / 1e6).toFixed(1)} MB, ${jobs.length} signatures; building the evidence took ${setupMs.toFixed(0)} ms`,
);
console.log('| operation | ms | receipts/s | peak RSS MB | target | result |');
console.log('| --- | ---: | ---: | ---: | --- | --- |');
const row = (op: string, ms: number, rss: string, target: string, ok: boolean) =>
  console.log(
    `| ${op} | ${ms.toFixed(0)} | ${((N / ms) * 1000).toFixed(0)} | ${rss} | ${target} | ${ok ? 'PASS' : 'MISS'} |`,
  );
row('export (build + sign + tar)', exportMs, '-', '< 10000 ms', exportMs < 10_000);
row(`bare Ed25519 of every signature (${jobs.length})`, bareMs, '-', '-', true);
row(
  `verify, serial (${serial.status})`,
  serial.ms,
  serial.rssMB.toFixed(0),
  '≤ 512 MB RSS',
  serial.status === 'PASS' && serial.rssMB <= 512,
);
row(
  `verify, 2 workers (${parallel.status})`,
  parallel.ms,
  parallel.rssMB.toFixed(0),
  '≤ 512 MB RSS',
  parallel.status === 'PASS' && parallel.rssMB <= 512,
);
const r1 = serial.ms / bareMs;
const r2 = serial.ms / parallel.ms;
console.log(`| ratio serial / bare | ${r1.toFixed(2)} | | | ≤ 1.5 | ${r1 <= 1.5 ? 'PASS' : 'MISS'} |`);
console.log(`| ratio serial / 2 workers | ${r2.toFixed(2)} | | | ≥ 1.7 | ${r2 >= 1.7 ? 'PASS' : 'MISS'} |`);
