// I-REPLAY-3, I-POLICY-1, I-BUDGET-2 — idempotency scope and window, receipt policies per effect
// class, and budget windows, through the governed runtime over a real data directory (#17 §2). Attacker tests first: a key reused with
// other arguments, a record past its window, a descriptor whose class has no receipt policy, a
// receipt-policies file not signed by a policy key. Every scenario ends with a byte-for-byte
// re-execution.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, signEnvelope } from '@helm/crypto';
import { ManualClock } from '@helm/guardian';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  budgetOverview,
  type DataDir,
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  defaultReceiptPolicies,
  GovernedRuntime,
  initDataDir,
  loadDataDirPolicy,
  parseBudgetAccount,
  RuntimeError,
  reexecute,
  writeReceiptPolicies,
} from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12); // a whole hour
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

let server: Server;
let port = 0;
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      hits += 1;
      res.setHeader('content-type', 'application/json');
      // Deterministic answers (re-execution runs the driver again); `hits` counts what was sent.
      res.end(JSON.stringify({ got: JSON.parse(body || '{}') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  port = (server.address() as { port: number }).port;
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
});

const echoTool = (name: string, effectType: string) => ({
  type: 'helm.tool.v1',
  name,
  description: `${name}: echo its args`,
  input_schema: { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false },
  output_schema: { type: 'object' },
  effect_type: effectType,
  risk_tier: 'LOW',
  action: 'run',
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
});

function fresh(p0Budgets?: Record<string, unknown>): { dir: string; data: DataDir } {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-budget-'));
  roots.push(dir);
  const { data } = initDataDir(dir, {
    chainId: 'rt-budget',
    fingerprint: FINGERPRINT,
    ...(p0Budgets
      ? {
          p0: {
            type: 'helm.policy.p0.v1',
            name: 'windowed',
            forbidden_effect_types: [],
            budgets: p0Budgets,
            max_delegation_ttl_ms: 3_600_000,
            require_delegation_mfa: false,
          },
        }
      : {}),
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rt-rules',
      version: 1,
      rules: [{ id: 'alice-all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool(echoTool('echo', 'compute'));
  data.writeTool({
    ...echoTool('post', 'net.egress'),
    input_schema: { type: 'object' },
    destination: `http://localhost:${port}`,
    driver: { kind: 'http', ref: `http://localhost:${port}/hook`, timeout_ms: 5_000 },
  });
  data.writeConfig({
    ...data.config(),
    egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
  });
  return { dir, data };
}

const call = (tool: string, args: unknown, key?: string) => ({
  tool,
  principal: 'alice',
  args: args as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  ...(key === undefined ? {} : { idempotency_key: key }),
});

function body(envelope: { payload: string } | null): Record<string, unknown> {
  return JSON.parse(Buffer.from((envelope as { payload: string }).payload, 'base64url').toString('utf8'));
}

async function reexecutesIdentically(data: DataDir): Promise<void> {
  const r = await reexecute(data);
  expect(r.divergences).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.identical).toBe(r.calls);
}

describe('idempotency: attacks', () => {
  it('a key reused with other arguments is IDEMPOTENCY_CONFLICT, receipted, and nothing is sent', async () => {
    const { data } = fresh();
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      const before = hits;
      const first = await rt.execute(call('post', { amount: 1 }, 'pay-1'));
      expect(first).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW', replayed: false });
      clock.advance(1_000);
      const reused = await rt.execute(call('post', { amount: 1000 }, 'pay-1'));
      expect(reused).toMatchObject({ status: 'DENIED', reason_code: 'IDEMPOTENCY_CONFLICT' });
      expect(reused.receipt).not.toBeNull();
      // Nor with another tool.
      const otherTool = await rt.execute(call('echo', { x: 1 }, 'pay-1'));
      expect(otherTool).toMatchObject({ status: 'DENIED', reason_code: 'IDEMPOTENCY_CONFLICT' });
      expect(hits - before).toBe(1);
    } finally {
      await rt.close();
    }
    await reexecutesIdentically(data);
  });

  it('a repeat past the window executes again under an ordinary receipt, and replaces the record', async () => {
    const { data } = fresh();
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    const window = DEFAULT_IDEMPOTENCY_WINDOW_MS;
    try {
      const before = hits;
      const original = await rt.execute(call('post', { amount: 5 }, 'order-7'));
      expect(original.reason_code).toBe('ALLOW');
      const originalId = body(original.receipt).receipt_id;
      // The last millisecond of the window: replayed, not sent.
      clock.set(T0 + window - 1);
      const replay = await rt.execute(call('post', { amount: 5 }, 'order-7'));
      expect(replay).toMatchObject({ status: 'SUCCEEDED', reason_code: 'IDEMPOTENT_REPLAY', replayed: true });
      expect(replay.output).toEqual(original.output);
      expect(body(replay.receipt).evidence).toMatchObject({ replay_of: originalId });
      expect(hits - before).toBe(1);
      // At the window's end: sent again, an ordinary ALLOW receipt with the same key.
      clock.set(T0 + window);
      const again = await rt.execute(call('post', { amount: 5 }, 'order-7'));
      expect(again).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW', replayed: false });
      expect(hits - before).toBe(2);
      const againBody = body(again.receipt);
      expect((againBody.evidence as { idempotency_key: string }).idempotency_key).toBe(
        (body(original.receipt).evidence as { idempotency_key: string }).idempotency_key,
      );
      // The new record replaced the expired one: a repeat now replays the second execution.
      clock.advance(1);
      const replay2 = await rt.execute(call('post', { amount: 5 }, 'order-7'));
      expect(replay2).toMatchObject({ reason_code: 'IDEMPOTENT_REPLAY', output: again.output });
      expect(body(replay2.receipt).evidence).toMatchObject({ replay_of: againBody.receipt_id });
      // Past the window, the key may even carry other arguments: a new call, not a conflict.
      clock.advance(window);
      const other = await rt.execute(call('post', { amount: 6 }, 'order-7'));
      expect(other).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
      expect(hits - before).toBe(3);
    } finally {
      await rt.close();
    }
    await reexecutesIdentically(data);
  });
});

describe('idempotency: scope', () => {
  it('without an idempotency key a repeated call is sent again every time, and nothing is stored', async () => {
    const { data } = fresh();
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      const before = hits;
      for (let i = 0; i < 3; i++) {
        const r = await rt.execute(call('post', { ping: true }));
        expect(r).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW', replayed: false });
        clock.advance(10);
      }
      expect(hits - before).toBe(3);
      expect(
        data.store
          .receiptsSync({ chainId: 'rt-budget' })
          .map((r) => (body(r.envelope) as { status: string }).status),
      ).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      // The key the executor derived (and receipted) has no stored record.
      const last = data.store.receiptsSync({ chainId: 'rt-budget' }).at(-1);
      const derived = (body(last?.envelope ?? null).evidence as { idempotency_key: string }).idempotency_key;
      expect(data.store.idempotencyEntrySync(derived)).toBeUndefined();
    } finally {
      await rt.close();
    }
    // The same request once more, in a new process (epoch): still executed.
    const rt2 = await GovernedRuntime.open(data, { clock });
    try {
      expect((await rt2.execute(call('post', { ping: true }))).replayed).toBe(false);
    } finally {
      await rt2.close();
    }
    await reexecutesIdentically(data);
  });

  it('a stored result survives the process: a new runtime within the window replays it', async () => {
    const { data } = fresh();
    const clock = new ManualClock(T0);
    let rt = await GovernedRuntime.open(data, { clock });
    const first = await rt.execute(call('echo', { x: 1 }, 'k'));
    await rt.close();
    clock.advance(60_000);
    rt = await GovernedRuntime.open(data, { clock });
    try {
      const again = await rt.execute(call('echo', { x: 1 }, 'k'));
      expect(again).toMatchObject({ reason_code: 'IDEMPOTENT_REPLAY', output: first.output });
    } finally {
      await rt.close();
    }
    await reexecutesIdentically(data);
  });
});

describe('receipt policies per effect class', () => {
  it('a descriptor whose class has no receipt policy is refused at registration with a hint', async () => {
    const { data } = fresh();
    data.writeTool(echoTool('crm', 'crm.write'));
    const error = await GovernedRuntime.open(data, { clock: new ManualClock(T0) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error).toMatchObject({ code: 'RECEIPT_POLICY_MISSING' });
    expect((error as RuntimeError).message).toContain('crm.write');
    expect((error as RuntimeError).hint).toContain('helmts receipt-policy sign');
    // With a policy for the class, the tool registers and its calls carry that policy's tier.
    const doc = defaultReceiptPolicies();
    writeReceiptPolicies(
      data,
      {
        ...doc,
        policies: [
          ...doc.policies,
          {
            effect_class: 'crm.write',
            risk_tier: 'HIGH',
            require_idempotency_key: true,
            min_approvals: 0,
            required_evidence: [],
            idempotency_window_ms: 60_000,
          },
        ],
      },
      data.signer('policy', 'policy'),
    );
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      // The class requires the caller's own key: without one, a receipted RECEIPT_POLICY_VIOLATION.
      const keyless = await rt.execute(call('crm', { x: 1 }));
      expect(keyless).toMatchObject({ status: 'DENIED', reason_code: 'RECEIPT_POLICY_VIOLATION' });
      const keyed = await rt.execute(call('crm', { x: 1 }, 'crm-1'));
      expect(keyed).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
      expect(body(keyed.receipt).risk_tier).toBe('HIGH');
      // Its own, shorter window: a minute later the key is free again.
      clock.advance(59_999);
      expect((await rt.execute(call('crm', { x: 1 }, 'crm-1'))).reason_code).toBe('IDEMPOTENT_REPLAY');
      clock.advance(1);
      expect((await rt.execute(call('crm', { x: 1 }, 'crm-1'))).reason_code).toBe('ALLOW');
    } finally {
      await rt.close();
    }
    await reexecutesIdentically(data);
  });

  it('a receipt-policies file not signed by a live policy key, or edited, is refused at open', async () => {
    const { data } = fresh();
    const path = data.path('policy', 'receipt-policies.signed.json');
    const doc = defaultReceiptPolicies();
    // Signed by another role's key (an approver): refused.
    writeReceiptPolicies(data, doc, data.signer('approver-1', 'approver'));
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'RECEIPT_POLICY_INVALID',
    });
    // Signed by a key outside the registry: refused.
    writeFileSync(path, JSON.stringify(signEnvelope(doc, [createSigner(new Uint8Array(32).fill(9))])));
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'RECEIPT_POLICY_INVALID',
    });
    // A correctly signed file whose payload was then edited (downgrade HIGH → LOW): refused.
    const signed = writeReceiptPolicies(data, doc, data.signer('policy', 'policy'));
    const edited = body(signed) as { policies: { risk_tier: string }[] };
    for (const p of edited.policies) p.risk_tier = 'LOW';
    writeFileSync(
      path,
      JSON.stringify({ ...signed, payload: Buffer.from(JSON.stringify(edited)).toString('base64url') }),
    );
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'RECEIPT_POLICY_INVALID',
    });
    // Strict validation: unknown fields, duplicate classes, out-of-range windows.
    const signer = data.signer('policy', 'policy');
    for (const bad of [
      { ...doc, extra: 1 },
      { ...doc, policies: [...doc.policies, doc.policies[0]] },
      { ...doc, idempotency_window_ms: 0 },
      { ...doc, policies: [{ ...doc.policies[0], idempotency_window_ms: 1.5 }] },
      { ...doc, policies: [{ ...doc.policies[0], risk_tier: 'NONE' }] },
      { ...doc, policies: [{ ...doc.policies[0], effect_class: 'CRM' }] },
    ]) {
      expect(() => writeReceiptPolicies(data, bad, signer)).toThrow(
        expect.objectContaining({ code: 'RECEIPT_POLICY_INVALID' }) as unknown as Error,
      );
    }
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ type: 'helm.receipt_policies.v1' });
  });
});

describe('budget windows through the runtime', () => {
  it('a per-minute budget refills at the boundary, deterministically, and re-executes identically', async () => {
    const { data } = fresh({
      default_principal_max: 100,
      default_tenant_max: 100,
      principals: { alice: 2 },
      window: 'minute',
    });
    const clock = new ManualClock(T0 + 58_000);
    let rt = await GovernedRuntime.open(data, { clock });
    try {
      expect((await rt.execute(call('echo', { x: 1 }))).reason_code).toBe('ALLOW');
      clock.advance(1_000);
      expect((await rt.execute(call('echo', { x: 2 }))).reason_code).toBe('ALLOW');
      clock.advance(999); // T0 + 59 999: still the same minute
      expect((await rt.execute(call('echo', { x: 3 }))).reason_code).toBe('BUDGET_EXCEEDED');
    } finally {
      await rt.close();
    }
    // A later process, in the next minute: a fresh allowance.
    clock.set(T0 + 60_000);
    rt = await GovernedRuntime.open(data, { clock });
    try {
      expect((await rt.execute(call('echo', { x: 4 }))).reason_code).toBe('ALLOW');
    } finally {
      await rt.close();
    }
    const overview = budgetOverview(data.store, loadDataDirPolicy(data, data.registry()), T0 + 60_000, [
      'principal:alice',
    ]);
    expect(overview.accounts).toEqual([
      {
        base: 'principal:alice',
        layer: 'P0',
        bundle: null,
        window: 'minute',
        account: `minute:${(T0 + 60_000) / 60_000}|principal:alice`,
        ceiling: 2,
        spent: 1,
        reserved: 0,
        remaining: 1,
        refills_at_ms: T0 + 120_000,
      },
    ]);
    expect(
      data.store.ledgerAccountsSync().map((a) => [parseBudgetAccount(a.account)?.index, a.spent]),
    ).toEqual([
      [T0 / 60_000, 2],
      [T0 / 60_000 + 1, 1],
    ]);
    await reexecutesIdentically(data);
  });
});
