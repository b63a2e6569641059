// End to end: the whole seed pipeline with the REAL guardian, receipts, proofgraph and crypto,
// deterministic keys (seeded) and real signed policies. Afterwards the receipt chain and the
// ProofGraph are verified offline with nothing but public keys.
import type { DecisionRecord, ReceiptBody } from '@helm/contracts';
import { openVerifiedEnvelope } from '@helm/crypto';
import { pkceChallenge } from '@helm/guardian';
import { RECEIPT_NODE_KIND, validateGraph } from '@helm/proofgraph';
import { RECEIPT_SIGNER_ROLE, verifyReceipt, verifyReceiptChain } from '@helm/receipts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../src/index.ts';

import {
  aliceContext,
  approve,
  approvers,
  body,
  build,
  CHAIN,
  executorSigner,
  FINGERPRINT,
  guardianSigner,
  VERIFIER,
} from './helpers/world.ts';

describe('end to end: governed session with real guardian, receipts, proofgraph', () => {
  const w = build();
  const run = async (request: Parameters<Executor['execute']>[0]) => {
    const r = await w.executor.execute(request);
    w.results.push(r);
    return r;
  };

  let sessionId = '';
  beforeAll(() => {
    const { session } = w.guardian.delegations!.create({
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [
        { tool: { eq: 'files.read' }, effect_type: { eq: 'fs.read' }, resource: { prefix: '/data/public/' } },
      ],
      ttl_ms: 600_000,
      code_challenge: pkceChallenge(VERIFIER),
      mfa_verified: true,
    });
    sessionId = session.session_id;
  });

  it('ALLOW: the driver runs and the output is released under a SUCCEEDED receipt', async () => {
    const r = await run({
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/report.csv' },
      context: aliceContext(),
    });
    expect(r.message).toBeUndefined();
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      reason_code: 'ALLOW',
      output: { text: 'contents of /data/report.csv' },
    });
    expect(body<DecisionRecord>(r.decision!).verdict).toBe('ALLOW');
    expect(w.driverCalls).toHaveLength(1);
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
  });

  it('DENY by policy: never forwarded to the driver', async () => {
    const r = await run({
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/secret/keys' },
      context: aliceContext(),
    });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'POLICY_DENY' });
    expect(r.output).toBeUndefined();
    expect(w.driverCalls).toHaveLength(1);
  });

  it('DENY by schema: the guardian allowed, the PEP refused, the reservation was refunded', async () => {
    const r = await run({
      tool: 'files.read',
      principal: 'alice',
      args_text: '{"path":"/data/a.txt","mode":"rw"}',
      context: aliceContext(),
    });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'SCHEMA_VIOLATION' });
    expect(r.errors).toEqual([
      {
        instance_path: '',
        schema_path: '#/additionalProperties',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'mode' },
      },
    ]);
    expect(body<DecisionRecord>(r.decision!).verdict).toBe('ALLOW');
    expect(w.driverCalls).toHaveLength(1);
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
  });

  it('drift: the output violates the pinned schema and is not released', async () => {
    const r = await run({
      tool: 'files.stat',
      principal: 'alice',
      args: { path: '/data/report.csv' },
      context: aliceContext(),
    });
    expect(r).toMatchObject({ status: 'FAILED', reason_code: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
    expect(r.output).toBeUndefined();
    expect(r.errors?.map((e) => e.keyword)).toEqual(['additionalProperties', 'type']);
    expect(w.driverCalls).toHaveLength(2);
    // The driver ran, so the call is charged although nothing was released (I-BUDGET-1).
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 2, reserved: 0 });
  });

  it('idempotent repeat: re-authorized, its own IDEMPOTENT_REPLAY receipt, no second execution', async () => {
    const first = w.results[0]!;
    const spent = w.ledger.state('principal:alice');
    const r = await run({
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/report.csv' },
      context: aliceContext(),
    });
    expect(r.replayed).toBe(true);
    expect(r).toMatchObject({ status: 'SUCCEEDED', verdict: 'ALLOW', reason_code: 'IDEMPOTENT_REPLAY' });
    expect(r.receipt).not.toEqual(first.receipt);
    expect(r.decision).not.toEqual(first.decision);
    expect(r.output).toEqual(first.output);
    expect(w.driverCalls).toHaveLength(2);
    // not charged
    expect(w.ledger.state('principal:alice')).toEqual(spent);
  });

  it('unknown tool: denied by the executor itself, still receipted', async () => {
    const r = await run({
      tool: 'shell.exec',
      principal: 'alice',
      args: { cmd: 'id' },
      context: aliceContext(),
    });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'TOOL_UNKNOWN', decision: null });
  });

  it('ESCALATE, then a 2-of-3 quorum approves, then the grant is consumed exactly once', async () => {
    const args = { service: 'billing', version: '2.4.1' };
    const held = await run({
      tool: 'deploy',
      principal: 'alice',
      args,
      context: aliceContext(),
      idempotency_key: 'deploy-1',
    });
    expect(held).toMatchObject({
      status: 'ESCALATED',
      verdict: 'ESCALATE',
      reason_code: 'APPROVAL_REQUIRED',
    });
    const challengeId = held.approval_challenge_id!;
    expect(challengeId).toMatch(/^sha256:/);
    expect(w.driverCalls).toHaveLength(2);

    // One approval is not a quorum.
    w.guardian.approvals!.submit(approve(approvers[0]!, 'carol', challengeId, w.guardian));
    w.clock.advance(61_000); // past the timelock
    const stillHeld = await run({
      tool: 'deploy',
      principal: 'alice',
      args,
      context: aliceContext(),
      idempotency_key: 'deploy-2',
    });
    expect(stillHeld.reason_code).toBe('APPROVAL_REQUIRED');

    w.guardian.approvals!.submit(approve(approvers[2]!, 'dave', challengeId, w.guardian));
    const done = await run({
      tool: 'deploy',
      principal: 'alice',
      args,
      context: aliceContext(),
      idempotency_key: 'deploy-3',
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { deployed: 'billing@2.4.1' } });
    const receipt = body<ReceiptBody>(done.receipt!);
    expect(receipt.evidence.approval_ids).toEqual([challengeId]);
    expect(receipt.risk_tier).toBe('HIGH');
    expect(w.driverCalls.filter((c) => c.tool === 'deploy')).toHaveLength(1);

    // The grant is single-use: a new call (new idempotency key) is held again.
    const again = await run({
      tool: 'deploy',
      principal: 'alice',
      args,
      context: aliceContext(),
      idempotency_key: 'deploy-4',
    });
    expect(again.reason_code).toBe('APPROVAL_REQUIRED');
    expect(w.driverCalls.filter((c) => c.tool === 'deploy')).toHaveLength(1);
  });

  it('delegated call in scope runs; out of scope and nonce replay are denied', async () => {
    const presentation = (nonce: string) => ({ session_id: sessionId, code_verifier: VERIFIER, nonce });
    const agentContext = (nonce: string) => ({
      environment_fingerprint: FINGERPRINT,
      credential_id: 'cred-agent',
      delegation: presentation(nonce),
    });
    const ok = await run({
      tool: 'files.read',
      principal: 'agent-7',
      args: { path: '/data/public/menu.txt' },
      context: agentContext('nonce-0000000001'),
    });
    expect(ok).toMatchObject({ status: 'SUCCEEDED', output: { text: 'contents of /data/public/menu.txt' } });
    expect(body<ReceiptBody>(ok.receipt!).session_id).toBe(sessionId);

    const outside = await run({
      tool: 'files.read',
      principal: 'agent-7',
      args: { path: '/data/report.csv' },
      context: agentContext('nonce-0000000002'),
    });
    expect(outside).toMatchObject({ status: 'DENIED', reason_code: 'DELEGATION_SCOPE_VIOLATION' });

    const replayed = await run({
      tool: 'files.read',
      principal: 'agent-7',
      args: { path: '/data/public/other.txt' },
      context: agentContext('nonce-0000000001'),
    });
    expect(replayed).toMatchObject({ status: 'DENIED', reason_code: 'DELEGATION_INVALID' });
    const reads = w.driverCalls
      .filter((c) => c.tool === 'files.read')
      .map((c) => (c.args as { path: string }).path);
    expect(reads).toEqual(['/data/report.csv', '/data/public/menu.txt']);
  });

  it('verifies the receipt chain and the ProofGraph offline with public keys only', () => {
    // Everything a verifier gets: the stored envelopes and three public keys.
    const receiptKey = { keyId: executorSigner.keyId, publicKey: Uint8Array.from(executorSigner.publicKey) };
    const guardianKey = { keyId: guardianSigner.keyId, publicKey: Uint8Array.from(guardianSigner.publicKey) };
    const receipts = w.store.range(CHAIN, 1, 1_000);
    // Every result has its own receipt, replays included.
    const issued = w.results.filter((r) => r.receipt !== null);
    expect(receipts).toHaveLength(issued.length);
    expect(receipts).toEqual(issued.map((r) => r.receipt));

    const keys = (keyid: string, role: string) =>
      keyid === receiptKey.keyId && role === RECEIPT_SIGNER_ROLE ? receiptKey.publicKey : undefined;
    const chain = verifyReceiptChain(receipts, { keys, chainId: CHAIN });
    expect(chain).toMatchObject({ ok: true, count: issued.length });

    // Every receipt names a decision the guardian signed (or an executor-local denial).
    const decisions = new Map(
      issued
        .filter((r) => r.decision !== null)
        .map((r) => {
          const v = openVerifiedEnvelope<DecisionRecord & { type: string }>(
            r.decision!,
            'helm.decision.v1',
            (id) => (id === guardianKey.keyId ? guardianKey.publicKey : undefined),
          );
          return [v.body.decision_id, v.body] as const;
        }),
    );
    const bodies = receipts.map((e) => body<ReceiptBody>(e));
    for (const b of bodies) {
      if (b.reason_code === 'TOOL_UNKNOWN') expect(decisions.has(b.decision_id)).toBe(false);
      else expect(decisions.get(b.decision_id)?.args_hash).toBe(b.args_hash);
    }
    expect(bodies.map((b) => b.reason_code)).toEqual([
      'ALLOW',
      'POLICY_DENY',
      'SCHEMA_VIOLATION',
      'ERR_CONNECTOR_CONTRACT_DRIFT',
      'IDEMPOTENT_REPLAY',
      'TOOL_UNKNOWN',
      'APPROVAL_REQUIRED',
      'APPROVAL_REQUIRED',
      'ALLOW',
      'APPROVAL_REQUIRED',
      'ALLOW',
      'DELEGATION_SCOPE_VIOLATION',
      'DELEGATION_INVALID',
    ]);

    // ProofGraph: every receipt is its own EFFECT node (a receipt node), in a causal line.
    const nodes = w.graph.rangeByLamport(1, 1_000);
    expect(nodes).toHaveLength(receipts.length);
    const verifyAsNode = (e: unknown) => verifyReceipt(e, keys);
    const graph = validateGraph(
      nodes.map((n) => ({ envelope: n.envelope, hash: n.hash })),
      { keys: () => undefined, receipts: verifyAsNode },
    );
    expect(graph).toMatchObject({ ok: true, count: receipts.length });
    for (const [i, n] of nodes.entries()) {
      expect(n.envelope).toBe(issued[i]?.receipt);
      expect(n.hash).toBe(issued[i]?.receipt_hash);
      expect(n.body).toMatchObject({ kind: RECEIPT_NODE_KIND, lamport: i + 1 });
      expect(n.body.parents).toEqual(i === 0 ? [] : [issued[i - 1]?.receipt_hash]);
    }

    // Tampering is caught: flip one receipt's reason code, re-encode, and the chain breaks.
    const forged = {
      ...receipts[1]!,
      payload: receipts[1]!.payload.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    };
    const tampered = verifyReceiptChain([receipts[0]!, forged, ...receipts.slice(2)], {
      keys,
      chainId: CHAIN,
    });
    expect(tampered.ok).toBe(false);
    // Truncation is caught against the known head.
    const head = chain.ok ? chain.head : undefined;
    const truncated = verifyReceiptChain(receipts.slice(0, -1), {
      keys,
      chainId: CHAIN,
      expectedHead: head!,
    });
    expect(truncated).toMatchObject({ ok: false, code: 'TRUNCATED' });
    // The graph rejects a forged receipt node, a reordered pair and a node without a verifier.
    const items = nodes.map((n) => ({ envelope: n.envelope as unknown }));
    const forgedItems = items.map((it, i) => (i === 1 ? { envelope: forged } : it));
    expect(validateGraph(forgedItems, { keys: () => undefined, receipts: verifyAsNode })).toMatchObject({
      ok: false,
      code: 'RECEIPT_INVALID',
      index: 1,
    });
    const reordered = [items[1]!, items[0]!, ...items.slice(2)];
    expect(validateGraph(reordered, { keys: () => undefined, receipts: verifyAsNode })).toMatchObject({
      ok: false,
      code: 'PARENT_ORDER',
      index: 0,
    });
    expect(validateGraph(items, { keys: () => undefined })).toMatchObject({
      ok: false,
      code: 'NODE_MALFORMED',
    });
  });
});

describe('determinism', () => {
  it('the same session replayed on a fresh world yields byte-identical receipts and nodes', async () => {
    const runOnce = async () => {
      const w = build();
      const out: unknown[] = [];
      for (const path of ['/data/a.csv', '/data/secret/b', '/data/c.csv']) {
        const r = await w.executor.execute({
          tool: 'files.read',
          principal: 'alice',
          args: { path },
          context: aliceContext(),
        });
        out.push(r.receipt, r.decision);
      }
      out.push(...w.graph.rangeByLamport(1, 10).map((n) => n.envelope));
      return JSON.stringify(out);
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(1000);
  });
});

describe('concurrency', () => {
  it('many concurrent governed calls still form one valid receipt chain and graph', async () => {
    const w = build();
    const calls = Array.from({ length: 24 }, (_, i) =>
      w.executor.execute({
        tool: i % 4 === 3 ? 'files.stat' : 'files.read',
        principal: 'alice',
        args: { path: i % 5 === 4 ? `/data/secret/${i}` : `/data/f${i % 12}.csv` },
        context: aliceContext(),
      }),
    );
    const results = await Promise.all(calls);
    const executed = results.filter((r) => r.receipt !== null);
    expect(executed).toHaveLength(results.length);
    const receipts = w.store.range(CHAIN, 1, 1_000);
    expect(receipts).toHaveLength(executed.length);
    const keys = (keyid: string) => (keyid === executorSigner.keyId ? executorSigner.publicKey : undefined);
    expect(verifyReceiptChain(receipts, { keys, chainId: CHAIN })).toMatchObject({ ok: true });
    const nodes = w.graph.rangeByLamport(1, 1_000);
    expect(
      validateGraph(
        nodes.map((n) => ({ envelope: n.envelope })),
        { keys, receipts: (e) => verifyReceipt(e, keys) },
      ),
    ).toMatchObject({
      ok: true,
      count: executed.length,
    });
    // Duplicates (same path) were executed once each: reads of /data/fN.csv by distinct N.
    const reads = w.driverCalls
      .filter((c) => c.tool === 'files.read')
      .map((c) => (c.args as { path: string }).path);
    expect(new Set(reads).size).toBe(reads.length);
    expect(results.filter((r) => r.reason_code === 'POLICY_DENY').length).toBeGreaterThan(0);
    expect(w.ledger.state('principal:alice').reserved).toBe(0);
  });
});
