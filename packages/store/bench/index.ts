// Store append throughput: one transaction per call vs group commit, at both durability levels.
// Run: pnpm build && node bench/index.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, digest, fromBase64Url, signEnvelope } from '@helm/crypto';
import { type GovernedCallRecord, openSqliteStore } from '@helm/store';

const N = Number(process.env.BENCH_N ?? 4000);
const signer = createSigner(new Uint8Array(32).fill(7));

function calls(n: number): GovernedCallRecord[] {
  let prev = `sha256:${'0'.repeat(64)}`;
  const out: GovernedCallRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const envelope = signEnvelope({ type: 'helm.bench.receipt.v1', lamport: i, prev_hash: prev }, [signer]);
    const hash = digest(fromBase64Url(envelope.payload) as Uint8Array);
    out.push({
      sessionId: 'bench',
      receipt: { id: `r${i}`, lamport: i, prevHash: prev, hash, envelope },
      decision: { id: `d${i}`, envelope },
      nodes: [{ id: `n${i}`, kind: 'EFFECT', lamport: i, parents: i > 1 ? [`n${i - 1}`] : [], body: { i } }],
      request: { id: `q${i}`, body: { i } },
      idempotency: { key: `k${i}`, value: { r: i } },
    });
    prev = hash;
  }
  return out;
}

async function run(label: string, durability: 'full' | 'normal', group: boolean, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'helm-store-bench-'));
  const store = openSqliteStore(join(dir, 'b.db'), { durability, groupCommit: group });
  const work = calls(N);
  const t0 = performance.now();
  for (let i = 0; i < work.length; i += concurrency) {
    await Promise.all(work.slice(i, i + concurrency).map((c) => store.commitCall(c)));
  }
  const ms = performance.now() - t0;
  const flushes = store.groupFlushes;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { label, perSec: (N / ms) * 1000, ms, flushes };
}

const rows = [
  await run('full, one tx per call', 'full', false, 1),
  await run('full, group commit (64 in flight)', 'full', true, 64),
  await run('normal, one tx per call', 'normal', false, 1),
  await run('normal, group commit (64 in flight)', 'normal', true, 64),
];
const baseline = rows[0]?.perSec ?? 1;
console.log(
  `store appends: ${N} governed calls (receipt + decision + node + request + idempotency per call)`,
);
console.log('| mode | calls/s | total ms | transactions | vs one-tx-per-call (full) | target | result |');
console.log('| --- | ---: | ---: | ---: | ---: | --- | --- |');
for (const r of rows) {
  const target = r.label.includes('group') ? '>= 2x one-tx' : '-';
  const ratio = r.perSec / baseline;
  const pass = r.label.includes('group') ? (ratio >= 2 ? 'PASS' : 'MISS') : '-';
  console.log(
    `| ${r.label} | ${r.perSec.toFixed(0)} | ${r.ms.toFixed(0)} | ${r.flushes || N} | ${ratio.toFixed(2)}x | ${target} | ${pass} |`,
  );
}
