// I-CONC-1 — any number of governed calls in flight on one runtime (#25). Attacker tests first: 200
// calls issued at once — duplicates sharing an idempotency key, allows, denials, escalations, a
// budget that runs out mid-flight — must leave a chain that verifies, Lamports 1..n without a gap,
// no duplicate execution, and the same budget a one-at-a-time run of the same calls leaves. A
// store that fails a commit while calls are in flight halts the runtime: nothing is released that
// its receipt does not back, and a reopen receipts what was admitted.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { ManualClock } from '@helm/guardian';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DataDir,
  exportPack,
  type GovernedResult,
  GovernedRuntime,
  initDataDir,
  type RuntimeError,
} from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
/** alice's hourly cap: her 80 echo calls alone ask for more. bob (the duplicates) has room. */
const CAP = 60;
const roots: string[] = [];
/** The trust anchor each data directory was initialized with (what a verifier pins). */
const anchors = new Map<DataDir, string>();
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

// A real HTTP endpoint that answers after a pseudo-random delay, so drivers genuinely overlap and
// finish out of order; `hits` counts what was sent per idempotency key.
let server: Server;
let port = 0;
const hits = new Map<string, number>();
beforeAll(async () => {
  let n = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}') as { k?: string };
      const key = String(parsed.k);
      hits.set(key, (hits.get(key) ?? 0) + 1);
      n = (n * 7 + 3) % 11;
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: parsed }));
      }, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  port = (server.address() as { port: number }).port;
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
});

function fresh(): DataDir {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-conc-'));
  roots.push(dir);
  const { data, anchor } = initDataDir(dir, {
    chainId: 'rt-conc',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 10_000,
        default_tenant_max: 10_000,
        principals: { alice: CAP, bob: 1_000 },
        window: 'hour',
      },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'conc-rules',
      version: 1,
      rules: [
        { id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } },
        { id: 'post', effect: 'allow', when: { principal: { eq: 'bob' }, tool: { eq: 'post' } } },
        {
          id: 'deploy-needs-approval',
          effect: 'allow',
          when: { principal: { eq: 'alice' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    },
    identity: [
      { credential_id: 'cred-alice', principal: 'alice' },
      { credential_id: 'cred-bob', principal: 'bob' },
    ],
  });
  const tool = (name: string, extra: Record<string, unknown>) => ({
    type: 'helm.tool.v1',
    name,
    description: name,
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
    ...extra,
  });
  data.writeTool(tool('echo', {}));
  data.writeTool(tool('forbidden', {}));
  data.writeTool(
    tool('deploy', {
      risk_tier: 'HIGH',
      driver: { kind: 'function', ref: 'demo.deploy', timeout_ms: 5_000 },
    }),
  );
  data.writeTool(
    tool('post', {
      effect_type: 'net.egress',
      destination: `http://localhost:${port}`,
      // Generous: a loaded CI machine must not turn a slow answer into DRIVER_TIMEOUT.
      driver: { kind: 'http', ref: `http://localhost:${port}/hook`, timeout_ms: 60_000 },
    }),
  );
  data.writeConfig({
    ...data.config(),
    egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
  });
  anchors.set(data, anchor);
  return data;
}

const request = (tool: string, args: unknown, key?: string, principal = 'alice') => ({
  tool,
  principal,
  args: args as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: `cred-${principal}` },
  ...(key === undefined ? {} : { idempotency_key: key }),
});

/**
 * 200 calls: alice's 80 allows (past her cap), 30 escalations and 30 denials; bob's 20 keys × 3
 * duplicate posts to a real endpoint. Interleaved.
 */
function workload(tag: string) {
  const calls: ReturnType<typeof request>[] = [];
  for (let i = 0; i < 80; i++) calls.push(request('echo', { i }));
  for (let k = 0; k < 20; k++)
    for (let d = 0; d < 3; d++) calls.push(request('post', { k: `${tag}-${k}` }, `${tag}-key-${k}`, 'bob'));
  for (let i = 0; i < 30; i++) calls.push(request('deploy', { service: 'api', version: `1.0.${i}` }));
  for (let i = 0; i < 15; i++) calls.push(request('forbidden', { i }));
  for (let i = 0; i < 15; i++) calls.push(request('no-such-tool', { i }));
  // A fixed shuffle, so duplicates and kinds are interleaved.
  const out: typeof calls = [];
  const step = 37; // coprime with 200
  for (let j = 0; j < calls.length; j++) out.push(calls[(j * step) % calls.length] as (typeof calls)[number]);
  return out;
}

function body(envelope: { payload: string }): Record<string, unknown> {
  return JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8'));
}

function tally(results: readonly GovernedResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of results) t[`${r.status}/${r.reason_code}`] = (t[`${r.status}/${r.reason_code}`] ?? 0) + 1;
  return t;
}

describe('I-CONC-1 concurrent calls on one runtime — attackers first', () => {
  it('200 calls in flight at once: chain verifies, Lamports contiguous, no duplicate execution, budget as a one-at-a-time run', async () => {
    // The one-at-a-time run of the same calls: what the budget and the outcomes must add up to.
    const serialData = fresh();
    const serial: GovernedResult[] = [];
    const rt1 = await GovernedRuntime.open(serialData, { clock: new ManualClock(T0) });
    try {
      for (const c of workload('s')) serial.push(await rt1.execute(c));
    } finally {
      await rt1.close();
    }

    const data = fresh();
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    let results: GovernedResult[];
    try {
      results = await Promise.all(workload('c').map((c) => rt.execute(c)));
      expect(rt.inFlight).toBe(0);
      // Nothing of a call is kept once it ended (I-SCALE-1).
      expect(rt.retained()).toEqual({ uncommittedReceipts: 0, pendingIdempotency: 0, ledgerOps: 0 });
    } finally {
      await rt.close();
    }

    // Every call got a receipt, each its own Lamport, 1..200 without a gap, all committed.
    const lamports = results.map((r) => body(r.receipt as { payload: string }).lamport as number);
    expect(new Set(lamports).size).toBe(200);
    expect([...lamports].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stored = data.store.receiptsSync({ chainId: 'rt-conc' });
    expect(stored.map((r) => r.lamport)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    for (const r of results) {
      const row = stored[(body(r.receipt as { payload: string }).lamport as number) - 1];
      expect(row?.envelope).toEqual(r.receipt);
    }
    expect(data.store.admissionsSync()).toHaveLength(0);

    // No duplicate execution: each key's request was sent exactly once (bob has room), by the
    // one call whose receipt says it ran; its two repeats replayed that result.
    const calls = workload('c');
    for (let k = 0; k < 20; k++) {
      const mine = results.filter((_, i) => calls[i]?.idempotency_key === `c-key-${k}`);
      expect(mine).toHaveLength(3);
      expect(hits.get(`c-${k}`)).toBe(1);
      expect(mine.filter((r) => r.reason_code === 'ALLOW' && r.status === 'SUCCEEDED')).toHaveLength(1);
      expect(mine.filter((r) => r.reason_code === 'IDEMPOTENT_REPLAY')).toHaveLength(2);
      for (const m of mine) expect(m.output).toEqual({ got: { k: `c-${k}` } });
    }

    // The same outcomes as one at a time; nothing failed for want of isolation between calls.
    const odd = results
      .filter((r) => r.status === 'FAILED')
      .map((r) => `${r.reason_code}: ${String(r.message)}`);
    expect(tally(results), odd.join('; ')).toEqual(tally(serial));
    expect(tally(results)['DENIED/BUDGET_EXCEEDED']).toBeGreaterThan(0);
    // Budgets exact: alice spent exactly her cap — one unit per call that ran — and nothing stays
    // reserved; bob spent one per key.
    const accounts = (d: DataDir, who: string) =>
      d.store
        .ledgerAccountsSync()
        .filter((a) => a.account.endsWith(`principal:${who}`))
        .map((a) => ({ spent: a.spent, reserved: a.reserved }));
    const ranBy = (who: string) =>
      results.filter(
        (r, i) => calls[i]?.principal === who && r.status === 'SUCCEEDED' && r.reason_code === 'ALLOW',
      ).length;
    expect(ranBy('alice')).toBe(CAP);
    expect(accounts(data, 'alice')).toEqual([{ spent: CAP, reserved: 0 }]);
    expect(accounts(data, 'bob')).toEqual([{ spent: 20, reserved: 0 }]);
    expect(accounts(serialData, 'alice')).toEqual(accounts(data, 'alice'));

    // The chain verifies offline.
    const pack = exportPack(data);
    const report = await verifyEvidencePack(pack.bytes, { trustAnchor: anchors.get(data) as string });
    expect(report.status).toBe('PASS');
  }, 120_000);

  it('calls decided alike at the same instant (one decision) are each receipted, one at a time and in flight', async () => {
    const data = fresh();
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    try {
      const same = () => request('forbidden', { i: 0 });
      const first = await rt.execute(same());
      const second = await rt.execute(same());
      const more = await Promise.all([rt.execute(same()), rt.execute(same()), rt.execute(same())]);
      for (const r of [first, second, ...more]) {
        expect(r.status).toBe('DENIED');
        expect(r.decision_id).toBe(first.decision_id);
      }
    } finally {
      await rt.close();
    }
    expect(data.store.receiptsSync({ chainId: 'rt-conc' })).toHaveLength(5);
    const report = await verifyEvidencePack(exportPack(data).bytes, {
      trustAnchor: anchors.get(data) as string,
    });
    expect(report.status).toBe('PASS');
  });

  it('a commit that fails while calls are in flight halts the runtime: nothing released past it, a reopen receipts what was admitted', async () => {
    const data = fresh();
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    const store = data.store;
    const original = store.commitCallsSync.bind(store);
    // The transaction holding the 5th receipt fails (as a full disk fails it): the whole batch.
    store.commitCallsSync = (records) => {
      if (records.some((r) => r.receipt.lamport === 5)) throw new Error('disk full');
      return original(records);
    };
    const settled = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => rt.execute(request('post', { k: `halt-${i}` }, undefined, 'bob'))),
    );
    store.commitCallsSync = original;
    const committed = store.receiptsSync({ chainId: 'rt-conc' }).map((r) => r.lamport);
    const m = committed.length;
    expect(m).toBeLessThan(5);
    expect(committed).toEqual(Array.from({ length: m }, (_, i) => i + 1));
    // Exactly the calls whose receipts committed got their output; every other call was refused.
    const released = settled.filter((s) => s.status === 'fulfilled');
    expect(released).toHaveLength(m);
    for (const s of released) {
      const lamport = body(
        (s as PromiseFulfilledResult<GovernedResult>).value.receipt as { payload: string },
      ).lamport;
      expect(lamport).toBeLessThanOrEqual(m);
    }
    // Later calls are refused before any decision.
    await expect(rt.execute(request('echo', { late: true }))).rejects.toMatchObject({
      code: 'RUNTIME_HALTED',
    });
    expect(settled.filter((s) => s.status === 'rejected').length).toBe(20 - m);
    // Each refused call names why: the failed transaction (its batch), or the halt after it.
    for (const s of settled)
      if (s.status === 'rejected') {
        const why = s.reason as RuntimeError;
        expect(why.code === 'RUNTIME_HALTED' || /disk full/.test(why.message)).toBe(true);
      }
    await rt.close();

    // A reopen receipts every call that was admitted (its driver may have run) as interrupted, and
    // the chain verifies.
    const open = store.admissionsSync();
    expect(open.length).toBeGreaterThan(0);
    const again = await GovernedRuntime.open(data, { clock: new ManualClock(T0 + 1_000) });
    await again.close();
    expect(store.admissionsSync()).toHaveLength(0);
    const after = store.receiptsSync({ chainId: 'rt-conc' });
    expect(after.map((r) => r.lamport)).toEqual(Array.from({ length: after.length }, (_, i) => i + 1));
    const interrupted = after.filter((r) => body(r.envelope).reason_code === 'EXECUTION_INTERRUPTED');
    expect(interrupted).toHaveLength(open.length);
    const report = await verifyEvidencePack(exportPack(data).bytes, {
      trustAnchor: anchors.get(data) as string,
    });
    expect(report.status).toBe('PASS');
  }, 60_000);
});
