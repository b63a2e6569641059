// Export and verify time for a pack of N receipts (each with its decision, ProofGraph node and
// recorded request), serial and on the worker pool. Run: pnpm build && node bench/index.ts
import { DECISION_TYPE, type SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, createSigner, digest, signEnvelope } from '@helm/crypto';
import { buildEvidencePack, verifyEvidencePack } from '@helm/evidencepack';
import { ProofGraph } from '@helm/proofgraph';
import { ReceiptChain } from '@helm/receipts';
import { createGenesisEvent, exportTrustSnapshot, TrustRegistry, trustEventDigest } from '@helm/trust';

const N = Number(process.env.BENCH_N ?? 10_000);
const seed = (n: number) => new Uint8Array(32).fill(n);
const root = createSigner(seed(1));
const executor = createSigner(seed(2));
const guardian = createSigner(seed(3));
const genesis = createGenesisEvent({ registry: 'bench', rootKeys: [root.publicKey], rootThreshold: 1 }, [
  root,
]);
const registry = TrustRegistry.fromGenesis(genesis);
registry.commit({ kind: 'key_publish', publicKey: executor.publicKey, roles: ['executor'] }, [root]);
registry.commit({ kind: 'key_publish', publicKey: guardian.publicKey, roles: ['guardian'] }, [root]);

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
const t2 = performance.now();
const serial = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor, workers: 0 });
const serialMs = performance.now() - t2;
const t3 = performance.now();
const parallel = await verifyEvidencePack(pack.bytes, {
  trustAnchor: anchor,
  workers: 2,
  parallelThreshold: 1,
});
const parallelMs = performance.now() - t3;

console.log(
  `EvidencePack of ${N} receipts (+ ${N} decisions, ${N} nodes, ${N} requests): ${(pack.bytes.length / 1e6).toFixed(1)} MB; building the evidence took ${setupMs.toFixed(0)} ms`,
);
console.log('| operation | ms | receipts/s | target | result |');
console.log('| --- | ---: | ---: | --- | --- |');
const row = (op: string, ms: number, target: number, ok: boolean) =>
  console.log(
    `| ${op} | ${ms.toFixed(0)} | ${((N / ms) * 1000).toFixed(0)} | < ${target} ms | ${ok && ms < target ? 'PASS' : 'MISS'} |`,
  );
row('export (build + sign + tar)', exportMs, 10_000, true);
row(`verify, serial (${serial.status})`, serialMs, 30_000, serial.status === 'PASS');
row(`verify, 2 workers (${parallel.status})`, parallelMs, 30_000, parallel.status === 'PASS');
