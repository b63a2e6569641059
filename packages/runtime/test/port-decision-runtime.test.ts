// The governed runtime deciding on the async store port's shared state (src/internal/port-decision.ts
// wired in runtime.ts): a store without the embedded store's synchronous decision reads gets the
// budget view and the read-ahead nonces. Here the embedded store with exactly those reads removed
// stands in for a networked one (calling one fails the test), so the whole runtime path — read
// before the decision, reservation written with the admission, nonce burned before it — runs,
// and must decide exactly as the embedded path does: the same outcomes, budgets exact, a
// delegation presentation used once even when two calls race with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, pkceChallenge } from '@helm/guardian';
import type { SqliteStore } from '@helm/store';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  type DataDir,
  type GovernedResult,
  GovernedRuntime,
  initDataDir,
} from '../src/index.ts';
import { draftDelegation, newCodeVerifier, presentation } from '../src/internal/delegation.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const CAP = 5;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The decision reads only the embedded store answers synchronously. */
const SYNC_DECISION_READS = new Set([
  'ledgerStateSync',
  'ledgerReservationSync',
  'ledgerCounterSync',
  'nonceUsedSync',
  'consumeNonceSync',
  'idempotencyEntrySync',
  // and what applying a governance event used (a networked store has neither)
  'flushSync',
  'applyGovernanceEventSync',
  'chainHeadSync',
]);

/** `data` whose store lacks the synchronous decision reads (as a networked store does). */
function portOnly(data: DataDir): DataDir {
  const store = data.store;
  const hidden = new Proxy(store, {
    get(target, key) {
      if (typeof key === 'string' && SYNC_DECISION_READS.has(key)) return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as SqliteStore;
  Object.defineProperty(data, 'store', { get: () => hidden, configurable: true });
  return data;
}

function fresh(): DataDir {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-port-'));
  roots.push(dir);
  const { data } = initDataDir(dir, {
    chainId: 'rt-port',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 10_000,
        default_tenant_max: 10_000,
        principals: { alice: CAP },
        window: 'hour',
      },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'port-rules',
      version: 1,
      rules: [
        { id: 'alice-echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } },
      ],
    },
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-agent', principal: 'agent-7' },
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
  return data;
}

const echo = (principal: string, i: number, context: Record<string, unknown> = {}) => ({
  tool: 'echo',
  principal,
  args: { i },
  context: { environment_fingerprint: FINGERPRINT, credential_id: `cred-${principal}`, ...context },
});

function tally(results: readonly GovernedResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of results) t[`${r.status}/${r.reason_code}`] = (t[`${r.status}/${r.reason_code}`] ?? 0) + 1;
  return t;
}

const lamportOf = (r: GovernedResult): number =>
  JSON.parse(Buffer.from((r.receipt as { payload: string }).payload, 'base64url').toString('utf8')).lamport;

describe('the runtime deciding on the async port (budget view, read-ahead nonces)', () => {
  it('12 calls in flight against a cap of 5: the outcomes of the embedded path, budget exact, nothing left reserved', async () => {
    const run = async (data: DataDir): Promise<GovernedResult[]> => {
      const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
      try {
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => rt.execute(echo('alice', i))));
        expect(rt.retained()).toEqual({ uncommittedReceipts: 0, pendingIdempotency: 0, ledgerOps: 0 });
        return results;
      } finally {
        await rt.close();
      }
    };
    const embedded = fresh();
    const port = fresh();
    const viaEmbedded = await run(embedded);
    const viaPort = await run(portOnly(port));
    expect(tally(viaPort)).toEqual(tally(viaEmbedded));
    expect(tally(viaPort)).toEqual({ 'SUCCEEDED/ALLOW': CAP, 'DENIED/BUDGET_EXCEEDED': 12 - CAP });
    expect(viaPort.map(lamportOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const alice = (d: DataDir) =>
      d.store
        .ledgerAccounts()
        .then((rows) =>
          rows.filter((a) => a.account.endsWith('principal:alice')).map((a) => [a.spent, a.reserved]),
        );
    expect(await alice(port)).toEqual([[CAP, 0]]);
    expect(await alice(port)).toEqual(await alice(embedded));
    // Reservation ids name the chain and the epoch: unique across nodes and opens.
    const receipts = await port.store.receipts({ chainId: 'rt-port' });
    const decisions = await port.store.decisions(
      receipts.flatMap((r) => (r.decisionId ? [r.decisionId] : [])),
    );
    const ids = decisions
      .map((d) => JSON.parse(Buffer.from(d.envelope.payload, 'base64url').toString('utf8')))
      .flatMap((b: { budget_reservation_id?: string | null }) =>
        typeof b.budget_reservation_id === 'string' ? [b.budget_reservation_id] : [],
      );
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/^budget-res-rt-port\.\d+\.\d+$/);
    // A reopen sees what was spent (read at open): alice is denied at once.
    const again = await GovernedRuntime.open(port, { clock: new ManualClock(T0 + 1) });
    try {
      expect((await again.execute(echo('alice', 99))).reason_code).toBe('BUDGET_EXCEEDED');
    } finally {
      await again.close();
    }
  }, 120_000);

  it('attacker (I-CONC-1, redteam-25): an idempotent repeat in flight never makes an ordinary call a budget denial', async () => {
    // Cap 2, one spent by the first call. The repeat passes the budget gate and is refunded in its
    // decision's step — which needs its stored record read before the decision on an async store.
    const data = portOnly(fresh());
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      const keyed = (i: number) => ({ ...echo('alice', i), idempotency_key: 'k-1' });
      for (let i = 0; i < CAP - 2; i++)
        expect((await rt.execute(echo('alice', 100 + i))).status).toBe('SUCCEEDED');
      expect((await rt.execute(keyed(1))).status).toBe('SUCCEEDED'); // CAP - 1 spent
      clock.advance(1);
      const [repeat, ordinary] = await Promise.all([rt.execute(keyed(1)), rt.execute(echo('alice', 2))]);
      expect(repeat.reason_code).toBe('IDEMPOTENT_REPLAY');
      expect(`${ordinary.status}/${ordinary.reason_code}`).toBe('SUCCEEDED/ALLOW');
    } finally {
      await rt.close();
      data.close();
    }
  }, 120_000);

  it('attacker: one delegation presentation replayed, and raced by two calls in flight, is used once', async () => {
    const data = portOnly(fresh());
    const policy = data.localKey('policy').signer;
    const verifier = newCodeVerifier();
    const session = draftDelegation(
      data,
      {
        delegator: 'alice',
        delegate: 'agent-7',
        grants: [{ tool: { eq: 'echo' }, effect_type: { eq: 'compute' } }],
        ttl_ms: 600_000,
        code_challenge: pkceChallenge(verifier),
        mfa_verified: true,
      },
      T0,
    );
    appendGovernanceEvent(data, {
      action: 'delegation.create',
      body: { session } as never,
      signer: policy,
      at: T0,
    });
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0 + 1) });
    try {
      const once = presentation(session.session_id, verifier);
      const first = await rt.execute(echo('agent-7', 1, { credential_id: 'cred-agent', delegation: once }));
      expect(first.reason_code).toBe('ALLOW');
      const replay = await rt.execute(echo('agent-7', 2, { credential_id: 'cred-agent', delegation: once }));
      expect(replay.reason_code).toBe('DELEGATION_INVALID');
      // Two calls in flight with one fresh presentation: exactly one is allowed.
      const raced = presentation(session.session_id, verifier);
      const both = await Promise.all([
        rt.execute(echo('agent-7', 3, { credential_id: 'cred-agent', delegation: raced })),
        rt.execute(echo('agent-7', 4, { credential_id: 'cred-agent', delegation: raced })),
      ]);
      expect(both.map((r) => r.reason_code).sort()).toEqual(['ALLOW', 'DELEGATION_INVALID']);
      // Both nonces are burned in the store (what another node reads before its decision).
      const nonce = (p: unknown) => `${session.session_id}|${(p as { nonce: string }).nonce}`;
      expect(await data.store.nonceUsed('delegation', nonce(once))).toBe(true);
      expect(await data.store.nonceUsed('delegation', nonce(raced))).toBe(true);
    } finally {
      await rt.close();
    }
    // A reopen restores the session from the governance log read through the port (the event is
    // applied, its record and cursor verified): used presentations stay used, a fresh one works.
    const again = await GovernedRuntime.open(data, { clock: new ManualClock(T0 + 2) });
    try {
      const fresh = presentation(session.session_id, verifier);
      expect(
        (await again.execute(echo('agent-7', 5, { credential_id: 'cred-agent', delegation: fresh })))
          .reason_code,
      ).toBe('ALLOW');
      expect(
        (await again.execute(echo('agent-7', 6, { credential_id: 'cred-agent', delegation: fresh })))
          .reason_code,
      ).toBe('DELEGATION_INVALID');
    } finally {
      await again.close();
      data.close();
    }
  }, 120_000);
});
