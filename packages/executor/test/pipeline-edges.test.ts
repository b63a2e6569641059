// Adversarial and failure-path tests of the pipeline: tampered or unbound authorizations, grants, escalation,
// misbehaving guardian / stores / drivers, malformed requests and configuration.
import type { ToolDescriptor } from '@helm/contracts';
import { createSigner } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  createExecutor,
  ExecutorError,
  type ExecutorOptions,
  functionDriver,
  type IdempotencyStore,
  type JsonValue,
} from '../src/index.ts';
import {
  decodePayload,
  ListGraph,
  ManualClock,
  ManualTimer,
  makeRecorder,
  ScriptedGuardian,
  seed,
} from './helpers/kit.ts';

const tool: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'pay',
  description: 'Transfer money',
  input_schema: {
    type: 'object',
    required: ['to', 'amount'],
    additionalProperties: false,
    properties: { to: { type: 'string' }, amount: { type: 'integer', minimum: 1 } },
  },
  output_schema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
  effect_type: 'payment.transfer',
  risk_tier: 'HIGH',
  action: 'transfer',
  resource_pointer: '/to',
  driver: { kind: 'function', ref: 'pay', timeout_ms: 1000 },
};
const readTool: ToolDescriptor = {
  ...tool,
  name: 'peek',
  effect_type: 'fs.read',
  risk_tier: 'LOW',
  action: 'read',
};
const noPolicyTool: ToolDescriptor = { ...tool, name: 'orphan', effect_type: 'data.export' };

function setup(extra: Partial<ExecutorOptions> = {}) {
  const clock = new ManualClock();
  const guardian = new ScriptedGuardian(clock);
  const { recorder, store } = makeRecorder();
  const graph = new ListGraph();
  const calls: JsonValue[] = [];
  const executor = createExecutor({
    guardian,
    guardianKeys: guardian.keys,
    receipts: recorder,
    proofgraph: graph,
    clock,
    timer: new ManualTimer(),
    ...extra,
  });
  const driver = functionDriver((args) => {
    calls.push(args);
    return { ok: true };
  });
  executor.registerTool(tool, driver);
  executor.registerTool(readTool, driver);
  executor.registerTool(noPolicyTool, driver);
  return { clock, guardian, executor, calls, graph, store };
}

const pay = { tool: 'pay', principal: 'alice', args: { to: 'bob', amount: 5 }, idempotency_key: 'p-1' };

describe('verification of the ALLOW decision (the AuthorizedExecutionIntent)', () => {
  const other = (c: string) => `sha256:${c.repeat(64)}`;
  const cases: [string, object][] = [
    ['signed by a key the executor does not trust', { decisionSigner: createSigner(seed(66)) }],
    ['edited after signing', { tamperPayload: true }],
    ['reported with another decision id', { reportedPatch: { decision_id: other('9') } }],
    ['bound to another effect', { signedPatch: { effect_digest: other('8') } }],
    ['bound to other args', { signedPatch: { args_hash: other('7') } }],
    ['bound to another tool', { signedPatch: { tool: 'peek' } }],
    ['bound to another principal', { signedPatch: { principal: 'mallory' } }],
    ['bound to another action', { signedPatch: { action: 'wipe' } }],
    ['bound to another resource', { signedPatch: { resource: 'mallory' } }],
    ['bound to another tenant', { signedPatch: { tenant: 'acme' } }],
    [
      'reported as ALLOW but signed as a DENY',
      {
        signedPatch: { verdict: 'DENY', reason_code: 'POLICY_DENY' },
        reportedPatch: { verdict: 'ALLOW', reason_code: 'ALLOW' },
      },
    ],
    [
      'signed with a non-ALLOW reason',
      { signedPatch: { reason_code: 'POLICY_DENY' }, reportedPatch: { reason_code: 'ALLOW' } },
    ],
    ['expired', { ttlMs: 0 }],
    [
      'not yet valid',
      { signedPatch: { decided_at_ms: 1_900_000_000_000, expires_at_ms: 1_900_000_001_000 } },
    ],
    ['with malformed times', { signedPatch: { expires_at_ms: 1.5 } }],
    ['without an expiry', { signedPatch: { expires_at_ms: null } }],
  ];
  it.each(cases)(
    'an ALLOW %s is INTENT_INVALID, nothing runs, the budget is refunded',
    async (_name, patch) => {
      const k = setup();
      k.guardian.script = () => ({ verdict: 'ALLOW', reason_code: 'ALLOW', ...patch });
      const r = await k.executor.execute(pay);
      expect(r).toMatchObject({ status: 'DENIED', reason_code: 'INTENT_INVALID' });
      expect(k.calls).toHaveLength(0);
      expect(k.guardian.refunded).toEqual(['res-1']);
      expect(k.guardian.committed).toEqual([]);
    },
  );

  it('acts on the signed reservation and session, never on what the port reports beside them', async () => {
    {
      const k = setup();
      k.guardian.script = () => ({
        verdict: 'ALLOW',
        reason_code: 'ALLOW',
        reportedPatch: { budget_reservation_id: 'res-forged', session_id: 'forged' },
      });
      const r = await k.executor.execute({ ...pay, tool: 'peek' });
      expect(r).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
      expect(k.guardian.committed).toEqual(['res-1']);
      expect(decodePayload(r.receipt!).session_id).toBeNull();
    }
  });

  it('a copy of a decision this process signed is verified in full (and passes when intact)', async () => {
    const k = setup();
    const inner = k.guardian.evaluate.bind(k.guardian);
    k.guardian.evaluate = (call) => {
      const e = inner(call);
      return { ...e, decision: JSON.parse(JSON.stringify(e.decision)) };
    };
    const r = await k.executor.execute({ ...pay, tool: 'peek' });
    expect(r).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
  });
});

describe('approvals and guardian verdicts', () => {
  it('ESCALATE records the challenge; a grant is consumed once and then refused', async () => {
    const k = setup();
    k.guardian.script = () => ({
      verdict: 'ESCALATE',
      reason_code: 'APPROVAL_REQUIRED',
      challenge: 'sha256:c1',
    });
    const held = await k.executor.execute(pay);
    expect(held).toMatchObject({
      status: 'ESCALATED',
      verdict: 'ESCALATE',
      approval_challenge_id: 'sha256:c1',
    });
    expect(decodePayload(held.receipt!).evidence).toMatchObject({ approval_challenge_id: 'sha256:c1' });

    const grant = `sha256:${'c'.repeat(64)}`;
    k.guardian.grantsAvailable.add(grant);
    k.guardian.script = () => ({ verdict: 'ALLOW', reason_code: 'ALLOW', grant });
    const ok = await k.executor.execute(pay);
    expect(ok.status).toBe('SUCCEEDED');
    expect(k.guardian.consumed).toEqual([grant]);
    expect(decodePayload<{ evidence: Record<string, unknown> }>(ok.receipt!).evidence.approval_ids).toEqual([
      grant,
    ]);

    const reused = await k.executor.execute({ ...pay, idempotency_key: 'p-2' });
    expect(reused).toMatchObject({ status: 'DENIED', reason_code: 'APPROVAL_INVALID' });
    expect(k.calls).toHaveLength(1);
  });

  it('a grant port that throws is APPROVAL_INVALID', async () => {
    const k = setup();
    k.guardian.consumeGrant = () => {
      throw new Error('ceremony store down');
    };
    k.guardian.script = () => ({ verdict: 'ALLOW', reason_code: 'ALLOW', grant: `sha256:${'d'.repeat(64)}` });
    expect((await k.executor.execute(pay)).reason_code).toBe('APPROVAL_INVALID');
  });

  it('a receipt policy that needs approvals denies an unapproved call before the driver', async () => {
    const k = setup();
    const r = await k.executor.execute(pay);
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'RECEIPT_POLICY_VIOLATION' });
    expect(k.calls).toHaveLength(0);
  });

  it('an effect class without a receipt policy is RECEIPT_POLICY_MISSING', async () => {
    const k = setup();
    const r = await k.executor.execute({ ...pay, tool: 'orphan' });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'RECEIPT_POLICY_MISSING' });
  });

  it('inconsistent or failing guardians fail closed with INTERNAL_ERROR', async () => {
    const k = setup();
    for (const s of [
      { verdict: 'ALLOW', reason_code: 'POLICY_DENY' },
      { verdict: 'DENY', reason_code: 'ALLOW' },
      { verdict: 'DENY', reason_code: 'APPROVAL_REQUIRED' },
      { verdict: 'ESCALATE', reason_code: 'POLICY_DENY' },
      { verdict: 'DENY', reason_code: 'NOT_A_CODE' },
    ] as const) {
      k.guardian.script = () => s as never;
      const r = await k.executor.execute({ ...pay, tool: 'peek' });
      expect(r.reason_code, JSON.stringify(s)).toBe('INTERNAL_ERROR');
      expect(r.status).toBe('DENIED');
    }
    k.guardian.throwOnEvaluate = true;
    expect((await k.executor.execute({ ...pay, tool: 'peek' })).reason_code).toBe('INTERNAL_ERROR');
    expect(k.calls).toHaveLength(0);
  });
});

describe('ports that misbehave', () => {
  it('a failing refund or commit never releases more or hides the receipt', async () => {
    const k = setup();
    k.guardian.refundBudget = () => {
      throw new Error('ledger down');
    };
    k.guardian.commitBudget = () => {
      throw new Error('ledger down');
    };
    const denied = await k.executor.execute({ ...pay, tool: 'peek', args: { to: 'x' } });
    expect(denied.reason_code).toBe('SCHEMA_VIOLATION');
    expect(denied.receipt).not.toBeNull();
    const ok = await k.executor.execute({ ...pay, tool: 'peek' });
    expect(ok.status).toBe('SUCCEEDED');
  });

  it('an idempotency store that fails to store still returns the result; the repeat runs again', async () => {
    const failing: IdempotencyStore = {
      get: () => undefined,
      put: () => {
        throw new Error('kv down');
      },
    };
    const k = setup({ idempotency: failing });
    const call = { ...pay, tool: 'peek' };
    expect((await k.executor.execute(call)).status).toBe('SUCCEEDED');
    expect((await k.executor.execute(call)).replayed).toBe(false);
    expect(k.calls).toHaveLength(2);
  });

  it('an idempotency store that fails to read fails closed', async () => {
    const k = setup({
      idempotency: {
        get: () => Promise.reject(new Error('kv down')),
        put: () => undefined,
      },
    });
    const r = await k.executor.execute({ ...pay, tool: 'peek' });
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'INTERNAL_ERROR' });
    expect(k.calls).toHaveLength(0);
  });

  it('a receipt port that throws is RECEIPT_PERSIST_FAILED with no receipt and no output', async () => {
    const k = setup();
    const { recorder } = makeRecorder();
    const broken = createExecutor({
      guardian: k.guardian,
      guardianKeys: k.guardian.keys,
      receipts: {
        admit: (c, x) => recorder.admit(c, x),
        recordDenial: () => Promise.reject(new Error('gone')),
        finalize: () => Promise.reject(new Error('gone')),
      },
      proofgraph: new ListGraph(),
      clock: k.clock,
      timer: new ManualTimer(),
    });
    broken.registerTool(
      readTool,
      functionDriver(() => ({ ok: true })),
    );
    const ok = await broken.execute({ ...pay, tool: 'peek' });
    expect(ok).toMatchObject({ reason_code: 'RECEIPT_PERSIST_FAILED', receipt: null });
    expect(ok.output).toBeUndefined();
    const unknown = await broken.execute({ ...pay, tool: 'nope' });
    expect(unknown).toMatchObject({ reason_code: 'RECEIPT_PERSIST_FAILED', receipt: null });
  });

  it('a graph failure after a denial is RECEIPT_PERSIST_FAILED (the receipt exists)', async () => {
    const k = setup();
    k.graph.failNext = 1;
    const r = await k.executor.execute({ ...pay, tool: 'nope' });
    expect(r.reason_code).toBe('RECEIPT_PERSIST_FAILED');
    expect(r.receipt).not.toBeNull();
  });

  it('a driver whose describe() throws or renames is TOOL_DESCRIPTOR_CHANGED', async () => {
    const k = setup();
    k.executor.registerTool(
      { ...readTool, name: 'flaky' },
      {
        kind: 'function',
        describe: () => {
          throw new Error('unreachable');
        },
        invoke: () => ({ ok: true }),
      },
    );
    k.executor.registerTool(
      { ...readTool, name: 'renamer' },
      { kind: 'function', describe: () => readTool, invoke: () => ({ ok: true }) },
    );
    expect((await k.executor.execute({ ...pay, tool: 'flaky' })).reason_code).toBe('TOOL_DESCRIPTOR_CHANGED');
    expect((await k.executor.execute({ ...pay, tool: 'renamer' })).reason_code).toBe(
      'TOOL_DESCRIPTOR_CHANGED',
    );
  });

  it('a clock that returns garbage fails closed', async () => {
    const k = setup();
    k.clock.t = Number.NaN;
    await expect(k.executor.execute({ ...pay, tool: 'peek' })).rejects.toBeInstanceOf(ExecutorError);
    expect(k.calls).toHaveLength(0);
  });
});

describe('request and configuration validation', () => {
  it('throws REQUEST_INVALID for requests that cannot be attributed', async () => {
    const k = setup();
    for (const bad of [
      null,
      'x',
      { tool: 'peek' },
      { principal: '', tool: 'peek' },
      { principal: 'a' },
      { principal: 'a', tool: '' },
    ]) {
      await expect(k.executor.execute(bad as never)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    }
  });

  it('args_text must be a string; args and args_text are exclusive', async () => {
    const k = setup();
    expect(
      (await k.executor.execute({ tool: 'peek', principal: 'a', args_text: 5 as never })).reason_code,
    ).toBe('ARGS_MALFORMED');
    expect(
      (await k.executor.execute({ tool: 'peek', principal: 'a', args: {}, args_text: '{}' })).reason_code,
    ).toBe('ARGS_MALFORMED');
  });

  it('createExecutor requires every port', () => {
    const k = setup();
    const full = {
      guardian: k.guardian,
      guardianKeys: k.guardian.keys,
      receipts: makeRecorder().recorder,
      proofgraph: new ListGraph(),
      clock: k.clock,
      timer: new ManualTimer(),
    };
    for (const drop of Object.keys(full)) {
      const partial = { ...full, [drop]: undefined } as unknown as ExecutorOptions;
      expect(() => createExecutor(partial), drop).toThrow(ExecutorError);
    }
    expect(() => createExecutor(undefined as never)).toThrow(ExecutorError);
  });

  it('listTools reports the pinned surface', () => {
    const k = setup();
    expect(k.executor.listTools().map((t) => t.name)).toEqual(['orphan', 'pay', 'peek']);
    expect(k.executor.getTool('pay')).toMatchObject({ descriptor: tool, drifted_digest: null });
    expect(k.executor.getTool('nope')).toBeUndefined();
  });
});
