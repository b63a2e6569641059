// `budget.reset` through the governance log (#17 §2): signed by a `policy` key, appended without
// the runtime, applied by the runtime before its next decision — spent back to 0 on every account
// of that principal (every budget, every window), in one transaction with its
// `helm.admin.budget.reset` receipt. Attackers first: a reset signed by a key without `policy`, one
// slipped into helm.db directly, a malformed body.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';
import { verifyEvidencePack } from '@helm/evidencepack';
import { BUDGET_WINDOW_MS, ManualClock } from '@helm/guardian';
import { describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  type DataDir,
  exportPack,
  GovernedRuntime,
  governanceEventDigest,
  governanceLink,
  initDataDir,
  reexecute,
  signGovernanceEvent,
} from '../src/index.ts';
import { codeOf, codeOfAsync, withData } from './governance-fixture.ts';

const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

let n = 0;
function fresh(): { dir: string; anchor: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'helm-budget-reset-')), `home-${++n}`);
  const { data, anchor } = initDataDir(dir, {
    chainId: 'reset-test',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'small',
      forbidden_effect_types: [],
      budgets: { default_principal_max: 2, default_tenant_max: 100 },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'hourly',
      version: 1,
      rules: [{ id: 'alice', effect: 'allow', when: { principal: { in: ['alice', 'bob'] } } }],
      budgets: { default_principal_max: 100, default_tenant_max: 100, window: 'hour' },
    },
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-bob', principal: 'bob' },
    ],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  data.close();
  return { dir, anchor };
}

const call = (principal = 'alice', x = 1) => ({
  tool: 'echo',
  principal,
  args: { x },
  context: { environment_fingerprint: FINGERPRINT, credential_id: `cred-${principal}` },
});

function reset(dir: string, account: string, at: number, key = 'policy') {
  return withData(dir, (data) =>
    appendGovernanceEvent(data, {
      action: 'budget.reset',
      body: { account, reason: 'test' },
      signer: data.localKey(key).signer,
      at,
    }),
  );
}

const bodyOf = (e: { payload: string }) => JSON.parse(Buffer.from(e.payload, 'base64url').toString('utf8'));

async function spendAll(rt: GovernedRuntime, clock: ManualClock, principal = 'alice'): Promise<void> {
  for (const x of [1, 2]) {
    expect((await rt.execute(call(principal, x))).reason_code).toBe('ALLOW');
    clock.advance(1);
  }
  expect((await rt.execute(call(principal, 3))).reason_code).toBe('BUDGET_EXCEEDED');
  clock.advance(1);
}

describe('budget.reset: attacks', () => {
  it('a reset signed by a key that does not hold policy is refused before it is appended', () => {
    const { dir } = fresh();
    for (const key of ['approver-1', 'executor', 'guardian', 'checkpoint'])
      expect(
        codeOf(() => reset(dir, 'principal:alice', T0, key)),
        key,
      ).toBe('KEY_NOT_VALID');
    withData(dir, (data) => expect(data.store.governanceEventsSync()).toHaveLength(0));
  });

  it('a reset slipped into helm.db directly, signed by an approver key, is refused loudly: no reset, nothing decided', async () => {
    const { dir } = fresh();
    const clock = new ManualClock(T0);
    // Spend alice's budget in a first "process".
    await withRuntimeOf(dir, clock, (r) => spendAll(r, clock));
    withData(dir, (d) => {
      const signer = d.localKey('approver-1').signer;
      const envelope = signGovernanceEvent({
        action: 'budget.reset',
        body: { account: 'principal:alice' },
        signer,
        at: T0,
        trustAnchor: d.config().trust_anchor,
        chainId: d.config().chain_id,
      });
      const digest = governanceEventDigest(envelope);
      const prev = `sha256:${'0'.repeat(64)}`;
      const seq = d.registry().seq;
      const db: DatabaseSyncType = new DatabaseSync(join(dir, 'helm.db'));
      try {
        db.prepare(
          'INSERT INTO governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope) VALUES (1, ?, ?, ?, ?, ?, NULL, ?, ?)',
        ).run(
          digest,
          prev,
          governanceLink(1, prev, digest, seq),
          'budget.reset',
          signer.keyId,
          seq,
          JSON.stringify(envelope),
        );
      } finally {
        db.close();
      }
    });
    expect(await codeOfAsync(() => withRuntimeOf(dir, clock, async () => undefined))).toBe(
      'GOVERNANCE_LOG_INVALID',
    );
    withData(dir, (d) => expect(d.store.ledgerStateSync('principal:alice').spent).toBe(2));
  });

  it('a malformed body is refused before it is appended', () => {
    const { dir } = fresh();
    for (const body of [
      {},
      { account: 'alice' },
      { account: 'principal:' },
      { account: 'principal:a', extra: 1 },
      { account: 'principal:a', reason: 7 },
    ]) {
      expect(
        codeOf(() =>
          withData(dir, (d) =>
            appendGovernanceEvent(d, {
              action: 'budget.reset',
              body: body as never,
              signer: d.localKey('policy').signer,
              at: T0,
            }),
          ),
        ),
        JSON.stringify(body),
      ).toBe('GOVERNANCE_EVENT_INVALID');
    }
  });
});

async function withRuntimeOf<T>(
  dir: string,
  clock: ManualClock,
  fn: (rt: GovernedRuntime) => Promise<T>,
): Promise<T> {
  return withDataAsync(dir, async (data) => {
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      return await fn(rt);
    } finally {
      await rt.close();
    }
  });
}

async function withDataAsync<T>(dir: string, fn: (data: DataDir) => Promise<T>): Promise<T> {
  const { DataDir: Dir } = await import('../src/index.ts');
  const data = new Dir(dir);
  try {
    return await fn(data);
  } finally {
    data.close();
  }
}

describe('budget.reset: applied once, receipted, reproducible', () => {
  it('appended while a runtime runs, it applies before the next decision: every budget and window of that principal only', async () => {
    const { dir, anchor } = fresh();
    const clock = new ManualClock(T0);
    let event: ReturnType<typeof reset> | undefined;
    await withRuntimeOf(dir, clock, async (rt) => {
      await spendAll(rt, clock, 'alice');
      await spendAll(rt, clock, 'bob');
      // Another "process" appends the reset: no lock needed while this runtime holds the directory.
      event = reset(dir, 'principal:alice', T0 + 10);
      const after = await rt.execute(call('alice', 4));
      expect(after.reason_code).toBe('ALLOW');
      expect((await rt.execute(call('bob', 4))).reason_code).toBe('BUDGET_EXCEEDED');
    });
    const hour = Math.floor(T0 / BUDGET_WINDOW_MS.hour);
    withData(dir, (d) => {
      // alice: both budgets reset, then charged once more; bob untouched.
      expect(d.store.ledgerStateSync('principal:alice').spent).toBe(1);
      expect(d.store.ledgerStateSync(`p1:hourly|hour:${hour}|principal:alice`).spent).toBe(1);
      expect(d.store.ledgerStateSync('principal:bob').spent).toBe(2);
      const receipts = d.store.receiptsSync({ chainId: 'reset-test' }).map((r) => bodyOf(r.envelope));
      const admin = receipts.filter((r) => r.tool === 'helm.admin.budget.reset');
      expect(admin).toHaveLength(1);
      expect(admin[0]).toMatchObject({
        status: 'SUCCEEDED',
        principal: d.localKey('policy').signer.keyId,
        decision_id: event?.digest,
        evidence: { governance_event: event?.digest },
        risk_tier: 'HIGH',
      });
      // The reset sits between bob's denial and alice's next call, where it was applied.
      expect(receipts.map((r) => (r.tool === 'helm.admin.budget.reset' ? 'reset' : r.reason_code))).toEqual([
        'ALLOW',
        'ALLOW',
        'BUDGET_EXCEEDED',
        'ALLOW',
        'ALLOW',
        'BUDGET_EXCEEDED',
        'reset',
        'ALLOW',
        'BUDGET_EXCEEDED',
      ]);
    });
    // A later open re-applies it in memory only: nothing is reset twice.
    clock.advance(1_000);
    await withRuntimeOf(dir, clock, async (rt) => {
      expect((await rt.execute(call('alice', 5))).reason_code).toBe('ALLOW');
      expect((await rt.execute(call('alice', 6))).reason_code).toBe('BUDGET_EXCEEDED');
    });
    const pack = withData(dir, (d) => exportPack(d));
    expect((await verifyEvidencePack(pack.bytes, { trustAnchor: anchor })).status).toBe('PASS');
    const again = await withDataAsync(dir, (d) => reexecute(d));
    expect(again.divergences).toEqual([]);
    expect(again.ok).toBe(true);
  });

  it('appended while no runtime runs, it applies at the next open, before that open decides anything', async () => {
    const { dir } = fresh();
    const clock = new ManualClock(T0);
    await withRuntimeOf(dir, clock, (rt) => spendAll(rt, clock));
    reset(dir, 'principal:alice', T0 + 100);
    withData(dir, (d) => expect(d.store.ledgerStateSync('principal:alice').spent).toBe(2)); // pending
    clock.advance(1_000);
    await withRuntimeOf(dir, clock, async (rt) => {
      expect((await rt.execute(call('alice', 9))).reason_code).toBe('ALLOW');
    });
    expect((await withDataAsync(dir, (d) => reexecute(d))).divergences).toEqual([]);
  });
});
