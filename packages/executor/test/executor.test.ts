import type { ToolDescriptor } from '@helm/contracts';
import { canonicalize } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  createExecutor,
  type Driver,
  DriverFailure,
  descriptorDigest,
  ExecutorError,
  functionDriver,
  InMemoryIdempotencyStore,
  type JsonValue,
} from '../src/index.ts';
import {
  decodePayload,
  FlakyStore,
  ListGraph,
  ManualClock,
  ManualTimer,
  makeRecorder,
  ScriptedGuardian,
} from './helpers/kit.ts';

const echo: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'files.read',
  description: 'Read a file',
  input_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1 }, max: { type: 'integer' } },
  },
  output_schema: {
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: { type: 'string' } },
  },
  effect_type: 'fs.read',
  risk_tier: 'LOW',
  action: 'read',
  resource_pointer: '/path',
  driver: { kind: 'function', ref: 'files.read', timeout_ms: 1000 },
};

function setup(
  body: (args: JsonValue) => unknown = (args) => ({ text: `read ${(args as { path: string }).path}` }),
) {
  const clock = new ManualClock();
  const timer = new ManualTimer();
  const guardian = new ScriptedGuardian(clock);
  const store = new FlakyStore();
  const { recorder: receipts } = makeRecorder(store);
  const graph = new ListGraph();
  const idempotency = new InMemoryIdempotencyStore();
  const calls: JsonValue[] = [];
  const driver = functionDriver((args) => {
    calls.push(args);
    return body(args);
  });
  const executor = createExecutor({
    guardian,
    guardianKeys: guardian.keys,
    receipts,
    proofgraph: graph,
    clock,
    timer,
    idempotency,
  });
  const pinned = executor.registerTool(echo, driver);
  return { clock, timer, guardian, receipts, store, graph, executor, calls, pinned, idempotency, driver };
}

const req = { tool: 'files.read', principal: 'agent:alice', args: { path: '/tmp/a' } };

describe('SafeExecutor pipeline', () => {
  it('allows, runs the driver with the validated args, receipts and releases output', async () => {
    const k = setup();
    const r = await k.executor.execute(req);
    expect(r.message).toBeUndefined();
    expect(r.status).toBe('SUCCEEDED');
    expect(r.reason_code).toBe('ALLOW');
    expect(r.output).toEqual({ text: 'read /tmp/a' });
    expect(k.calls).toEqual([{ path: '/tmp/a' }]);
    expect(Object.isFrozen(k.calls[0])).toBe(true);
    const body = decodePayload(r.receipt!);
    expect(body.status).toBe('SUCCEEDED');
    expect(body.output_hash).toMatch(/^sha256:/);
    expect(body.decision_id).toBe(r.decision_id);
    expect(k.guardian.committed).toEqual(['res-1']);
    expect(k.guardian.refunded).toEqual([]);
    expect(k.graph.nodes).toHaveLength(1);
    expect(k.guardian.calls[0]?.resource).toBe('/tmp/a');
    expect(k.timer.pending.size).toBe(0);
  });

  it('denies an unknown tool without calling the guardian or any driver', async () => {
    const k = setup();
    const r = await k.executor.execute({ ...req, tool: 'nope' });
    expect(r.reason_code).toBe('TOOL_UNKNOWN');
    expect(r.status).toBe('DENIED');
    expect(r.output).toBeUndefined();
    expect(k.guardian.calls).toHaveLength(0);
    expect(k.calls).toHaveLength(0);
    expect(decodePayload(r.receipt!).reason_code).toBe('TOOL_UNKNOWN');
  });

  it('denies by policy and never forwards to the driver', async () => {
    const k = setup();
    k.guardian.script = () => ({ verdict: 'DENY', reason_code: 'POLICY_DENY' });
    const r = await k.executor.execute(req);
    expect(r).toMatchObject({ status: 'DENIED', verdict: 'DENY', reason_code: 'POLICY_DENY' });
    expect(k.calls).toHaveLength(0);
    expect(r.decision).not.toBeNull();
  });

  it('SCHEMA_VIOLATION with sorted, deterministic details, budget refunded', async () => {
    const k = setup();
    const r = await k.executor.execute({ ...req, args: { zeta: 1, path: 5, alpha: 2 } });
    expect(r.reason_code).toBe('SCHEMA_VIOLATION');
    expect(k.calls).toHaveLength(0);
    expect(k.guardian.refunded).toEqual(['res-1']);
    const r2 = await k.executor.execute({ ...req, args: { alpha: 2, path: 5, zeta: 1 } });
    expect(r2.errors).toEqual(r.errors);
    const texts = r.errors!.map((e) => canonicalize(e));
    expect(texts).toEqual([...texts].sort());
    expect(r.errors!.map((e) => [e.instance_path, e.keyword])).toEqual([
      ['', 'additionalProperties'],
      ['', 'additionalProperties'],
      ['/path', 'type'],
    ]);
    expect(r.errors![0]?.params).toEqual({ additionalProperty: 'alpha' });
  });

  it('ARGS_MALFORMED for non-JSON values and bad text', async () => {
    const k = setup();
    const holey: unknown[] = [1];
    holey[2] = 2; // index 1 is a hole
    for (const args of [
      { path: undefined },
      { path: Number.NaN },
      { d: new Date(0) },
      holey,
      { f: () => 1 },
    ]) {
      const r = await k.executor.execute({ ...req, args });
      expect(r.reason_code).toBe('ARGS_MALFORMED');
      expect(r.args_hash).toBeNull();
    }
    expect(
      (await k.executor.execute({ tool: req.tool, principal: 'p', args_text: '{"path":' })).reason_code,
    ).toBe('ARGS_MALFORMED');
    expect((await k.executor.execute({ tool: req.tool, principal: 'p' })).reason_code).toBe('ARGS_MALFORMED');
    expect(k.calls).toHaveLength(0);
    expect(k.guardian.calls).toHaveLength(0);
  });

  it('accepts args as JSON text', async () => {
    const k = setup();
    const r = await k.executor.execute({
      tool: req.tool,
      principal: 'agent:alice',
      args_text: '{ "path" : "/x" }',
    });
    expect(r.status).toBe('SUCCEEDED');
  });

  it('drift: output violating the pinned schema is not released', async () => {
    const k = setup(() => ({ text: 42, extra: true }));
    const r = await k.executor.execute(req);
    expect(r.reason_code).toBe('ERR_CONNECTOR_CONTRACT_DRIFT');
    expect(r.status).toBe('FAILED');
    expect(r.output).toBeUndefined();
    // The driver ran: the reservation is charged, not refunded (I-BUDGET-1).
    expect(k.guardian.refunded).toEqual([]);
    expect(k.guardian.committed).toEqual(['res-1']);
    expect(decodePayload(r.receipt!).output_hash).toBeNull();
  });

  it('driver errors: throw, non-JSON, typed failure', async () => {
    const cases: [() => unknown, string][] = [
      [
        () => {
          throw new Error('boom');
        },
        'DRIVER_ERROR',
      ],
      [() => ({ n: Number.POSITIVE_INFINITY }), 'DRIVER_ERROR'],
      [() => undefined, 'DRIVER_ERROR'],
      [() => Promise.reject(new DriverFailure('SANDBOX_TRAP', 'trap')), 'SANDBOX_TRAP'],
      [
        () => {
          throw new DriverFailure('ALLOW', 'sneaky');
        },
        'DRIVER_ERROR',
      ],
    ];
    for (const [body, code] of cases) {
      const k = setup(body);
      const r = await k.executor.execute(req);
      expect(r.reason_code).toBe(code);
      expect(r.status).toBe('FAILED');
      expect(r.output).toBeUndefined();
    }
  });

  it('DRIVER_TIMEOUT via the injected timer', async () => {
    let release!: (v: unknown) => void;
    const k = setup(
      () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    );
    const pending = k.executor.execute(req);
    await new Promise((r) => setImmediate(r));
    expect(k.timer.pending.size).toBe(1);
    expect([...k.timer.pending.values()][0]?.ms).toBe(1000);
    k.timer.fireAll();
    const r = await pending;
    expect(r.reason_code).toBe('DRIVER_TIMEOUT');
    expect(r.output).toBeUndefined();
    release({ text: 'late' });
  });

  it('descriptor change is denied until re-pinned', async () => {
    const k = setup();
    const changed = { ...echo, description: 'Read any file, also /etc/shadow' };
    expect(k.executor.observeDescriptor(changed)).toBe(descriptorDigest(changed));
    const r = await k.executor.execute(req);
    expect(r.reason_code).toBe('TOOL_DESCRIPTOR_CHANGED');
    expect(k.calls).toHaveLength(0);
    expect(() => k.executor.repinTool(changed, k.pinned.descriptor_digest)).toThrow(ExecutorError);
    k.executor.repinTool(changed, descriptorDigest(changed));
    expect((await k.executor.execute(req)).status).toBe('SUCCEEDED');
  });

  it('a driver advertising a changed descriptor is denied', async () => {
    const k = setup();
    let advertised: ToolDescriptor = echo;
    const driver: Driver = { kind: 'function', describe: () => advertised, invoke: () => ({ text: 'x' }) };
    k.executor.registerTool({ ...echo, name: 'remote.read' }, driver);
    advertised = { ...echo, name: 'remote.read' };
    expect((await k.executor.execute({ ...req, tool: 'remote.read' })).status).toBe('SUCCEEDED');
    advertised = { ...echo, name: 'remote.read', output_schema: {} };
    expect(
      (await k.executor.execute({ ...req, tool: 'remote.read', args: { path: '/b' } })).reason_code,
    ).toBe('TOOL_DESCRIPTOR_CHANGED');
  });

  it('idempotent repeat is re-authorized and receipted, releases the stored output, runs nothing', async () => {
    const k = setup();
    const a = await k.executor.execute(req);
    const b = await k.executor.execute({ ...req, args: { path: '/tmp/a' } });
    expect(b.replayed).toBe(true);
    expect(b.status).toBe('SUCCEEDED');
    expect(b.reason_code).toBe('IDEMPOTENT_REPLAY');
    expect(b.verdict).toBe('ALLOW');
    expect(b.receipt).not.toEqual(a.receipt);
    const original = decodePayload(a.receipt!);
    const replay = decodePayload(b.receipt!);
    expect(replay.reason_code).toBe('IDEMPOTENT_REPLAY');
    expect(replay.output_hash).toBe(original.output_hash);
    expect((replay.evidence as Record<string, unknown>).replay_of).toBe(original.receipt_id);
    expect(b.output).toEqual(a.output);
    expect(k.calls).toHaveLength(1);
    // the guardian decided both calls; the replay's reservation was refunded, not charged
    expect(k.guardian.calls).toHaveLength(2);
    expect(k.guardian.committed).toEqual(['res-1']);
    expect(k.guardian.refunded).toEqual(['res-2']);
  });

  it('concurrent duplicates execute once; a different payload under the key conflicts', async () => {
    const k = setup();
    const [a, b] = await Promise.all([
      k.executor.execute({ ...req, idempotency_key: 'k1' }),
      k.executor.execute({ ...req, idempotency_key: 'k1' }),
    ]);
    expect(k.calls).toHaveLength(1);
    expect(a.output).toEqual(b.output);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect([a.reason_code, b.reason_code].sort()).toEqual(['ALLOW', 'IDEMPOTENT_REPLAY']);
    const c = await k.executor.execute({ ...req, idempotency_key: 'k1', args: { path: '/other' } });
    expect(c.reason_code).toBe('IDEMPOTENCY_CONFLICT');
    const [d, e] = await Promise.all([
      k.executor.execute({ ...req, idempotency_key: 'k2' }),
      k.executor.execute({ ...req, idempotency_key: 'k2', args: { path: '/zzz' } }),
    ]);
    expect(d.status).toBe('SUCCEEDED');
    expect(e.reason_code).toBe('IDEMPOTENCY_CONFLICT');
    expect(k.calls).toHaveLength(2);
  });

  it('receipt persistence failure withholds output and charges (the driver ran)', async () => {
    const k = setup();
    k.store.failNext = 1;
    const r = await k.executor.execute(req);
    expect(r.reason_code).toBe('RECEIPT_PERSIST_FAILED');
    expect(r.output).toBeUndefined();
    expect(k.guardian.refunded).toEqual([]);
    expect(k.guardian.committed).toEqual(['res-1']);
    expect(decodePayload(r.receipt!).reason_code).toBe('RECEIPT_PERSIST_FAILED');
    k.store.failNext = 5;
    const r2 = await k.executor.execute({ ...req, args: { path: '/y' } });
    expect(r2.receipt).toBeNull();
    expect(r2.reason_code).toBe('RECEIPT_PERSIST_FAILED');
    k.graph.failNext = 1;
    const r3 = await k.executor.execute({ ...req, args: { path: '/z' } });
    expect(r3.reason_code).toBe('RECEIPT_PERSIST_FAILED');
    expect(r3.output).toBeUndefined();
  });
});
