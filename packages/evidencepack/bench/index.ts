// EvidencePack export and verify at scale: time and peak RSS (each measured in its own child
// process, VmHWM) for packs of N receipts (each with its guardian decision, signed ProofGraph node
// and recorded request), and the bare baseline in the same run: Ed25519 verification of every
// signature in the pack, PAE prepared beforehand, one core.
//
// Per size N, four children:
//   gen     a synthetic generator with real signatures (receipt chain, decisions, nodes) writing the
//           evidence as NDJSON files, one item at a time (a stand-in for a store on disk);
//   export  streams the NDJSON files through writeEvidencePackFile (what `helm export` does);
//   bare    Ed25519-verifies every signature of the evidence (receipts, decisions, nodes, manifest);
//   verify  verifyEvidencePackFile on the pack file, serially and with 2 workers.
// Run: pnpm build && pnpm bench    (BENCH_SIZES=1000,10000,100000,1000000; default 1000,10000)
// BENCH_KEEP_DIR keeps the generated files and packs; BENCH_TIMEOUT_S bounds each child.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DECISION_TYPE, NODE_TYPE, type SignedEnvelope } from '@helm/contracts';
import {
  canonicalBytes,
  createSigner,
  digest,
  fromBase64Url,
  preAuthEncoding,
  signEnvelope,
  verifyEd25519,
} from '@helm/crypto';
import { verifyEvidencePackFile, writeEvidencePackFile } from '@helm/evidencepack';
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
 * holding memory would report the parent's size.
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
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** CPU time of the calling thread alone (process.cpuUsage counts every thread, workers included). */
const threadCpuMs = () => {
  const u = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
  return u === undefined ? undefined : (u.user + u.system) / 1000;
};

const seed = (n: number) => new Uint8Array(32).fill(n);
const root = createSigner(seed(1));
const executor = createSigner(seed(2));
const guardian = createSigner(seed(3));
function world() {
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
  return { registry, anchor: trustEventDigest(genesis) };
}
const KINDS = ['receipts', 'decisions', 'nodes', 'requests'] as const;

/** Lines of an NDJSON file, parsed one at a time through a 1 MiB window. */
function* lines<T>(file: string): Generator<T> {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let rest = '';
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = rest + buf.toString('utf8', 0, n);
      const parts = text.split('\n');
      rest = parts.pop() as string;
      for (const p of parts) if (p) yield JSON.parse(p) as T;
    }
    if (rest) yield JSON.parse(rest) as T;
  } finally {
    closeSync(fd);
  }
}

/** Buffered appends to a file. */
function appender(file: string) {
  const fd = openSync(file, 'w');
  let chunks: string[] = [];
  let size = 0;
  const flush = () => {
    if (chunks.length) writeSync(fd, chunks.join(''));
    chunks = [];
    size = 0;
  };
  return {
    line(value: unknown) {
      const s = `${JSON.stringify(value)}\n`;
      chunks.push(s);
      size += s.length;
      if (size > 1 << 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

const role = process.env.BENCH_ROLE;
const dir = process.env.BENCH_DIR as string;
const N = Number(process.env.BENCH_N);

if (role === 'gen') {
  // The evidence of N governed calls, one at a time: nothing is kept but the chain heads.
  const { registry, anchor } = world();
  const out = Object.fromEntries(KINDS.map((k) => [k, appender(join(dir, `${k}.ndjson`))]));
  const chain = new ReceiptChain({ signer: executor, chainId: 'bench' });
  let parent: { hash: string; lamport: number } | undefined;
  for (let i = 0; i < N; i++) {
    const args = { path: `/data/${i}` };
    const argsHash = digest(canonicalBytes(args));
    const request = { tool: 'files.read', principal: 'alice', args };
    const decisionId = digest(canonicalBytes({ i }));
    out.decisions?.line(
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
    out.receipts?.line(m.envelope);
    // A signed EFFECT node whose payload is the receipt (filed without it: the receipt is in the
    // pack), chained to the previous node; its fields as signNode (docs/spec/node.md) builds them.
    const lamport = parent ? parent.lamport + 1 : 1;
    const node = signEnvelope(
      {
        type: NODE_TYPE,
        kind: 'EFFECT',
        parents: parent ? [parent.hash] : [],
        lamport,
        principal: 'alice',
        payload_hash: digest(canonicalBytes(m.envelope)),
        keyid: executor.keyId,
        issued_at_ms: i,
      },
      [executor],
    );
    out.nodes?.line({ envelope: node });
    parent = { hash: digest(canonicalBytes(node)), lamport };
    out.requests?.line({ lamport: m.body.lamport, body: { request, clock_ms: i } });
  }
  for (const k of KINDS) out[k]?.close();
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(exportTrustSnapshot(registry)));
  writeFileSync(join(dir, 'anchor'), anchor);
  console.log(JSON.stringify({ rssMB: peakRssMB() }));
  process.exit(0);
}

if (role === 'export') {
  const t = performance.now();
  const c = cpuMs();
  const w = writeEvidencePackFile(
    {
      producer: 'bench',
      chainId: 'bench',
      sessionId: 'bench',
      receipts: lines<SignedEnvelope>(join(dir, 'receipts.ndjson')),
      decisions: lines<SignedEnvelope>(join(dir, 'decisions.ndjson')),
      nodes: lines<{ envelope: SignedEnvelope }>(join(dir, 'nodes.ndjson')),
      requests: lines<{ lamport: number; body: unknown }>(join(dir, 'requests.ndjson')),
      trustSnapshot: JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')),
      policies: [],
      tools: [{ type: 'helm.tool.v1', name: 'files.read', input_schema: {}, output_schema: {} }],
    },
    executor,
    join(dir, 'pack.tar'),
  );
  // The manifest envelope, for the bare baseline (Ed25519 is deterministic: the pack's bytes).
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(signEnvelope(w.manifest as never, [executor])));
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, cpuMs: cpuMs() - c, rssMB: peakRssMB(), bytes: w.bytes }));
  process.exit(0);
}

if (role === 'bare') {
  // Every signature of the evidence, PAE prepared beforehand in batches; only verification is timed.
  const keyOf = new Map([executor, guardian, root].map((s) => [s.keyId, s.publicKey]));
  let ms = 0;
  let cpu = 0;
  let count = 0;
  let bad = 0;
  const batch: { key: Uint8Array; msg: Uint8Array; sig: Uint8Array }[] = [];
  const run = () => {
    const t = performance.now();
    const c = cpuMs();
    for (const j of batch) if (!verifyEd25519(j.key, j.msg, j.sig).ok) bad++;
    ms += performance.now() - t;
    cpu += cpuMs() - c;
    count += batch.length;
    batch.length = 0;
  };
  const add = (e: SignedEnvelope) => {
    for (const s of e.signatures)
      batch.push({
        key: keyOf.get(s.keyid) as Uint8Array,
        msg: preAuthEncoding(e.type, fromBase64Url(e.payload) as Uint8Array),
        sig: fromBase64Url(s.sig) as Uint8Array,
      });
    if (batch.length >= 4096) run();
  };
  for (const e of lines<SignedEnvelope>(join(dir, 'receipts.ndjson'))) add(e);
  for (const e of lines<SignedEnvelope>(join(dir, 'decisions.ndjson'))) add(e);
  for (const n of lines<{ envelope: SignedEnvelope }>(join(dir, 'nodes.ndjson'))) add(n.envelope);
  add(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  run();
  if (bad) throw new Error(`${bad} bare verifications failed`);
  console.log(JSON.stringify({ ms, cpuMs: cpu, count, rssMB: peakRssMB() }));
  process.exit(0);
}

if (role === 'verify') {
  const workers = Number(process.env.BENCH_WORKERS ?? 0);
  const t = performance.now();
  const c = cpuMs();
  const m = threadCpuMs();
  const r = await verifyEvidencePackFile(join(dir, 'pack.tar'), {
    trustAnchor: readFileSync(join(dir, 'anchor'), 'utf8'),
    workers,
    parallelThreshold: 1,
  });
  const ms = performance.now() - t;
  const failed = r.checks.filter((x) => x.status !== 'PASS' && x.status !== 'SKIPPED').map((x) => x.code);
  const main = threadCpuMs();
  console.log(
    JSON.stringify({
      ms,
      cpuMs: cpuMs() - c,
      ...(main !== undefined && m !== undefined ? { mainCpuMs: main - m } : {}),
      status: r.status,
      failed,
      rssMB: peakRssMB(),
    }),
  );
  process.exit(0);
}

// Parent: per size, the four children in one run.
interface Out {
  ms: number;
  cpuMs?: number;
  mainCpuMs?: number;
  rssMB: number;
  status?: string;
  failed?: string[];
  bytes?: number;
  count?: number;
}
const timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? 0);
function child(r: string, n: number, d: string, extra: Record<string, string> = {}): Out | { error: string } {
  const t = performance.now();
  const res = spawnSync(process.execPath, [process.argv[1] as string], {
    env: { ...process.env, BENCH_ROLE: r, BENCH_N: String(n), BENCH_DIR: d, ...extra },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    ...(timeoutS > 0 ? { timeout: timeoutS * 1000 } : {}),
  });
  const last = res.stdout?.trim().split('\n').pop();
  // Progress on stderr as each child ends (a 1M run takes long).
  console.error(
    `[bench ${n}] ${r}${extra.BENCH_WORKERS ? ` workers=${extra.BENCH_WORKERS}` : ''}: ${last ?? res.signal ?? res.status}`,
  );
  if (res.status !== 0 || !last)
    return {
      error: `${r}: ${res.signal ?? `exit ${res.status}`} after ${((performance.now() - t) / 1000).toFixed(0)} s ${(res.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`,
    };
  return JSON.parse(last) as Out;
}
const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const keep = process.env.BENCH_KEEP_DIR;
const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0));
for (const n of sizes) {
  const d = keep ? join(keep, String(n)) : mkdtempSync(join(tmpdir(), 'helm-bench-'));
  rmSync(d, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', d]);
  const t0 = performance.now();
  const gen = child('gen', n, d);
  const genMs = performance.now() - t0;
  if ('error' in gen) throw new Error(gen.error);
  const ex = child('export', n, d);
  if ('error' in ex) throw new Error(ex.error);
  const bare = child('bare', n, d);
  if ('error' in bare) throw new Error(bare.error);
  const serial = child('verify', n, d, { BENCH_WORKERS: '0' });
  const pooled = child('verify', n, d, { BENCH_WORKERS: '2' });
  if (!keep) rmSync(d, { recursive: true, force: true });
  console.log(
    `\nEvidencePack of ${n} receipts (+ ${n} decisions, ${n} nodes, ${n} requests): ${((ex.bytes ?? 0) / 1e6).toFixed(1)} MB, ${bare.count} signatures; generating the evidence took ${(genMs / 1000).toFixed(0)} s`,
  );
  console.log('| operation | wall ms | CPU ms | receipts/s | peak RSS MB | target | result |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- | --- |');
  const row = (op: string, o: Out | { error: string }, target: string, ok: (o: Out) => boolean) => {
    if ('error' in o) {
      console.log(`| ${op} | - | - | - | - | ${target} | FAILED: ${o.error} |`);
      return;
    }
    console.log(
      `| ${op}${o.status ? ` (${o.status}${o.failed?.length ? `: ${o.failed.join(', ')}` : ''})` : ''} | ${fmt(o.ms)} | ${fmt(o.cpuMs)} | ${((n / o.ms) * 1000).toFixed(0)} | ${o.rssMB.toFixed(0)} | ${target} | ${ok(o) ? 'PASS' : 'MISS'} |`,
    );
  };
  const rssOk = (o: Out) => o.rssMB <= 512;
  row('export (streamed to a file)', ex, '≤ 512 MB RSS', rssOk);
  row(`bare Ed25519 of every signature (${bare.count})`, bare, '-', () => true);
  row('verify, serial', serial, '≤ 512 MB RSS', (o) => o.status === 'PASS' && rssOk(o));
  row('verify, 2 workers', pooled, '≤ 512 MB RSS', (o) => o.status === 'PASS' && rssOk(o));
  if (!('error' in serial) && !('error' in pooled)) {
    const r1 = serial.ms / bare.ms;
    const r2 = serial.ms / pooled.ms;
    console.log(`| ratio serial / bare | ${r1.toFixed(2)} | | | | ≤ 1.5 | ${r1 <= 1.5 ? 'PASS' : 'MISS'} |`);
    console.log(
      `| ratio serial / 2 workers | ${r2.toFixed(2)} | | | | ≥ 1.7 | ${r2 >= 1.7 ? 'PASS' : 'MISS'} |`,
    );
    console.log(
      `| CPU-time ratio serial / bare | ${((serial.cpuMs ?? 0) / (bare.cpuMs ?? bare.ms)).toFixed(2)} | | | | (less sensitive to a shared machine) | |`,
    );
    // Amdahl on 2 cores: the pool's wall time cannot go below its main thread's CPU time, nor below
    // half its total CPU time; the serial CPU time over the larger of the two is the speed-up the
    // design allows on two idle cores (the load of a shared machine aside).
    if (pooled.mainCpuMs !== undefined && pooled.cpuMs !== undefined && serial.cpuMs !== undefined) {
      const floor = Math.max(pooled.mainCpuMs, pooled.cpuMs / 2);
      console.log(
        `| 2 workers: main-thread CPU / all threads' CPU | ${fmt(pooled.mainCpuMs)} / ${fmt(pooled.cpuMs)} ms (${((100 * pooled.mainCpuMs) / pooled.cpuMs).toFixed(0)}% on the main thread) | | | | | |`,
      );
      console.log(
        `| 2 workers: speed-up bound on 2 idle cores, serial CPU / max(main CPU, all CPU / 2) | ${(serial.cpuMs / floor).toFixed(2)} | | | | ≥ 1.7 | ${serial.cpuMs / floor >= 1.7 ? 'PASS' : 'MISS'} |`,
      );
    }
  }
}
