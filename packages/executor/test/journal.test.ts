// The write-ahead admission journal and crash recovery: an admitted call is journaled before its
// driver runs and closed with its receipt; a process that stops in between leaves the entry, and
// `recover()` in the next process closes it with a signed EXECUTION_INTERRUPTED receipt.
import type { ToolDescriptor } from '@helm/contracts';
import { createSigner } from '@helm/crypto';
import {
  InMemoryReceiptStore,
  RECEIPT_SIGNER_ROLE,
  ReceiptPolicySet,
  ReceiptRecorder,
  verifyReceiptChain,
} from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  type AdmissionEntry,
  type AdmissionJournal,
  createExecutor,
  type Driver,
  type ExecutorOptions,
  functionDriver,
  InMemoryAdmissionJournal,
} from '../src/index.ts';
import {
  decodePayload,
  FlakyStore,
  ListGraph,
  ManualClock,
  ManualTimer,
  RECEIPT_POLICIES,
  ScriptedGuardian,
  seed,
} from './helpers/kit.ts';

const CHAIN = 'journal-chain';
const tool: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'peek',
  description: 'Read a thing',
  input_schema: {
    type: 'object',
    required: ['to'],
    additionalProperties: false,
    properties: { to: { type: 'string' } },
  },
  output_schema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
  effect_type: 'fs.read',
  risk_tier: 'LOW',
  action: 'read',
  resource_pointer: '/to',
  driver: { kind: 'function', ref: 'peek', timeout_ms: 1000 },
};
const call = { tool: 'peek', principal: 'alice', args: { to: 'bob' } };
const signer = createSigner(seed(2));

async function recorderOn(store: InMemoryReceiptStore) {
  return ReceiptRecorder.open({
    signer,
    chainId: CHAIN,
    store,
    policies: new ReceiptPolicySet(
      RECEIPT_POLICIES.map((p) => ({ ...p, required_evidence: [...p.required_evidence] })),
    ),
    trust: () => ({ seq: 1, head: `sha256:${'7'.repeat(64)}` }),
  });
}

/** One "process": an executor over shared durable parts (receipt store, journal). */
async function boot(
  parts: { store: InMemoryReceiptStore; journal: AdmissionJournal },
  driver: Driver,
  extra: Partial<ExecutorOptions> = {},
) {
  const clock = new ManualClock();
  const guardian = new ScriptedGuardian(clock);
  const graph = new ListGraph();
  const recorder = await recorderOn(parts.store);
  const executor = createExecutor({
    guardian,
    guardianKeys: guardian.keys,
    receipts: recorder,
    proofgraph: graph,
    clock,
    timer: new ManualTimer(),
    journal: parts.journal,
    ...extra,
  });
  executor.registerTool(tool, driver);
  return { clock, guardian, graph, executor };
}

function verify(store: InMemoryReceiptStore) {
  const keys = (keyid: string, role: string) =>
    keyid === signer.keyId && role === RECEIPT_SIGNER_ROLE ? signer.publicKey : undefined;
  return verifyReceiptChain(store.range(CHAIN, 1, 1_000), { keys, chainId: CHAIN });
}

const ok = functionDriver(() => ({ ok: true }));

describe('admission journal', () => {
  it('journals the admission before the driver runs and closes it with the receipt', async () => {
    const journal = new InMemoryAdmissionJournal();
    const seen: (readonly AdmissionEntry[])[] = [];
    const k = await boot(
      { store: new InMemoryReceiptStore(), journal },
      functionDriver(() => {
        seen.push(journal.pending());
        return { ok: true };
      }),
    );
    const r = await k.executor.execute(call);
    expect(r.status).toBe('SUCCEEDED');
    expect(seen).toHaveLength(1);
    const entry = seen[0]?.[0] as AdmissionEntry;
    expect(entry).toMatchObject({
      type: 'helm.admission.v1',
      decision_id: r.decision_id,
      args_hash: r.args_hash,
      idempotency_key: r.idempotency_key,
      principal: 'alice',
      tool: 'peek',
      budget_reservation_id: 'res-1',
    });
    expect(entry.admission_id).toBe(entry.decision_id);
    expect(entry.evidence.idempotency_key).toBe(entry.idempotency_key);
    expect(r.admission_id).toBe(entry.admission_id);
    expect(journal.size).toBe(0);
    // A denial before admission journals nothing and closes nothing.
    const denied = await k.executor.execute({ ...call, args: { to: 1 } });
    expect(denied).toMatchObject({ reason_code: 'SCHEMA_VIOLATION', admission_id: null });
    // The idempotent repeat is not a new admission.
    const repeat = await k.executor.execute(call);
    expect(repeat).toMatchObject({ replayed: true, admission_id: null });
    expect(await k.executor.recover()).toEqual([]);
  });

  it('failures after admission (driver error, drift) close the admission with their receipt', async () => {
    const journal = new InMemoryAdmissionJournal();
    let mode = 'throw';
    const k = await boot(
      { store: new InMemoryReceiptStore(), journal },
      functionDriver(() => {
        if (mode === 'throw') throw new Error('boom');
        return { ok: false };
      }),
    );
    const failed = await k.executor.execute(call);
    expect(failed).toMatchObject({ status: 'FAILED', reason_code: 'DRIVER_ERROR' });
    expect(failed.admission_id).not.toBeNull();
    mode = 'drift';
    const drift = await k.executor.execute({ ...call, args: { to: 'carol' } });
    expect(drift).toMatchObject({ status: 'FAILED', reason_code: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
    expect(journal.size).toBe(0);
    // Both drivers ran: charged, never refunded (I-BUDGET-1).
    expect(k.guardian.refunded).toEqual([]);
    expect(k.guardian.committed).toEqual(['res-1', 'res-2']);
  });

  it('a journal that cannot admit denies before the driver, the grant and any effect', async () => {
    const calls: unknown[] = [];
    const journal: AdmissionJournal = {
      admit: () => Promise.reject(new Error('disk full')),
      complete: () => undefined,
      pending: () => [],
    };
    const k = await boot(
      { store: new InMemoryReceiptStore(), journal },
      functionDriver((a) => {
        calls.push(a);
        return { ok: true };
      }),
    );
    const r = await k.executor.execute(call);
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'RECEIPT_PERSIST_FAILED', admission_id: null });
    expect(r.receipt).not.toBeNull();
    expect(calls).toHaveLength(0);
    expect(k.guardian.refunded).toEqual(['res-1']);
  });

  it('a failing complete() never hides the receipt or the output', async () => {
    const inner = new InMemoryAdmissionJournal();
    const journal: AdmissionJournal = {
      admit: (e) => inner.admit(e),
      complete: () => {
        throw new Error('io');
      },
      pending: () => inner.pending(),
    };
    const k = await boot({ store: new InMemoryReceiptStore(), journal }, ok);
    const r = await k.executor.execute(call);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.output).toEqual({ ok: true });
    expect(inner.size).toBe(1);
  });
});

describe('recovery after a crash between admission and receipt', () => {
  it('issues a signed EXECUTION_INTERRUPTED receipt, charges the reservation and resumes the chain', async () => {
    const store = new InMemoryReceiptStore();
    const journal = new InMemoryAdmissionJournal();
    // Process 1: one call completes, the next one's driver never returns (the process "dies").
    let hang = false;
    const first = await boot(
      { store, journal },
      functionDriver(() => (hang ? new Promise(() => undefined) : { ok: true })),
    );
    expect((await first.executor.execute(call)).status).toBe('SUCCEEDED');
    hang = true;
    void first.executor.execute({ ...call, args: { to: 'carol' } });
    await new Promise((r) => setImmediate(r));
    expect(journal.size).toBe(1);
    const open = journal.pending()[0] as AdmissionEntry;
    expect(store.range(CHAIN, 1, 100)).toHaveLength(1);

    // Process 2: recover before serving.
    const second = await boot({ store, journal }, ok);
    second.clock.t += 5_000;
    const recovered = await second.executor.recover();
    expect(recovered).toHaveLength(1);
    const r = recovered[0];
    expect(r).toMatchObject({
      status: 'FAILED',
      verdict: 'DENY',
      reason_code: 'EXECUTION_INTERRUPTED',
      admission_id: open.admission_id,
      decision_id: open.decision_id,
      args_hash: open.args_hash,
      idempotency_key: open.idempotency_key,
      decision: open.decision,
      replayed: false,
    });
    expect(r?.output).toBeUndefined();
    const body = decodePayload<Record<string, unknown>>(r?.receipt as never);
    expect(body).toMatchObject({
      status: 'FAILED',
      reason_code: 'EXECUTION_INTERRUPTED',
      lamport: 2,
      decision_id: open.decision_id,
      args_hash: open.args_hash,
      issued_at_ms: second.clock.t,
    });
    expect(journal.size).toBe(0);
    expect(second.guardian.committed).toEqual([open.budget_reservation_id]);
    expect(second.graph.nodes).toHaveLength(1);
    expect(second.graph.nodes[0]?.decision).toEqual(open.decision);
    // The chain verifies across the crash and continues.
    expect((await second.executor.execute({ ...call, args: { to: 'dave' } })).status).toBe('SUCCEEDED');
    expect(verify(store)).toMatchObject({ ok: true, count: 3 });
    // Recovery is idempotent: nothing left to close.
    expect(await second.executor.recover()).toEqual([]);
  });

  it('keeps the entry open when the interruption receipt cannot be persisted, and retries next time', async () => {
    const store = new FlakyStore();
    const journal = new InMemoryAdmissionJournal();
    const first = await boot(
      { store, journal },
      functionDriver(() => {
        throw new Error('boom');
      }),
    );
    // The failure receipt of an admitted call cannot be persisted: the entry stays open.
    store.failNext = 1;
    const lost = await first.executor.execute(call);
    expect(lost).toMatchObject({ reason_code: 'RECEIPT_PERSIST_FAILED', receipt: null });
    expect(journal.size).toBe(1);

    const second = await boot({ store, journal }, ok);
    store.failNext = 1;
    const again = await second.executor.recover();
    expect(again).toMatchObject([{ reason_code: 'RECEIPT_PERSIST_FAILED', receipt: null }]);
    expect(journal.size).toBe(1);
    expect(second.guardian.committed).toEqual([]);

    // Graph and ledger failures do not stop the receipt.
    second.graph.failNext = 1;
    second.guardian.commitBudget = () => {
      throw new Error('ledger down');
    };
    const done = await second.executor.recover();
    expect(done[0]?.reason_code).toBe('EXECUTION_INTERRUPTED');
    expect(done[0]?.message).toMatch(/ProofGraph append failed/);
    expect(journal.size).toBe(0);
    expect(verify(store)).toMatchObject({ ok: true, count: 1 });
  });

  it('a receipt port that throws during recovery is RECEIPT_PERSIST_FAILED; a failing complete is tolerated', async () => {
    const journal = new InMemoryAdmissionJournal();
    const store = new InMemoryReceiptStore();
    const first = await boot(
      { store, journal },
      functionDriver(() => new Promise(() => undefined)),
    );
    void first.executor.execute(call);
    await new Promise((r) => setImmediate(r));
    const recorder = await recorderOn(store);
    const broken = await boot({ store, journal }, ok, {
      receipts: {
        admit: (c, x) => recorder.admit(c, x),
        recordDenial: () => Promise.reject(new Error('gone')),
        finalize: (...a) => recorder.finalize(...a),
      },
    });
    expect(await broken.executor.recover()).toMatchObject([{ reason_code: 'RECEIPT_PERSIST_FAILED' }]);
    const sticky: AdmissionJournal = {
      admit: (e) => journal.admit(e),
      complete: () => Promise.reject(new Error('io')),
      pending: () => journal.pending(),
    };
    const third = await boot({ store, journal: sticky }, ok);
    expect(await third.executor.recover()).toMatchObject([{ reason_code: 'EXECUTION_INTERRUPTED' }]);
  });
});
