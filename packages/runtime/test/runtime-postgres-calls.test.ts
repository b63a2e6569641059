// The governed runtime on PostgreSQL (real server; fresh database for this file;
// HELM_TEST_DATABASE_URL overrides; no server = failure). Each node is a data directory (config,
// keys, policy, tools: copies of one, so one trust root) whose store is the shared database — no
// embedded store in the loop, and no synchronous store method is reached: open (trust registry,
// governance restore, grant scan, orphan release, recovery) and every call (decision, reservation,
// admission, driver, receipt, idempotent replay) run on the async store port.
//
// Attacker: two runtime nodes (two chains) on one database, 24 calls each in flight at once for
// one principal whose hourly budget is 20: the database admits exactly 20 cluster-wide, every
// other call is a receipted denial before any driver runs, and each chain has no gap.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@helm/guardian';
import type { SqliteStore } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import {
  DataDir,
  type GovernedResult,
  GovernedRuntime,
  initDataDir,
  publishTrustRegistry,
} from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const CAP = 20;
const db = await createTestDatabase('rt_calls');
const roots: string[] = [];
const stores: PostgresStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  await db.drop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The synchronous store methods open may reach: none (a networked store has none). */
const OPEN_SYNC_READS: string[] = [];
/** Looked up, never called, on a store without them: how the runtime tells which reads it has. */
const PROBED = new Set([
  'ledgerStateSync',
  'ledgerReservationSync',
  'ledgerCounterSync',
  'nonceUsedSync',
  'consumeNonceSync',
  'idempotencyEntrySync',
]);

interface Node {
  readonly data: DataDir;
  readonly pg: PostgresStore;
  /** Synchronous methods reached since the last reset. */
  readonly reached: Set<string>;
}

let template: string | undefined;

/** One cluster: every node's data directory is a copy of one (one trust root, one registry). */
async function node(chainId: string): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-pgcalls-'));
  roots.push(dir);
  if (template === undefined) {
    template = mkdtempSync(join(tmpdir(), 'helm-rt-pgcalls-t-'));
    roots.push(template);
    const made = await initNode(template);
    // The cluster's trust registry lives in the database (every node reads it at open).
    const seed = await openPostgresStore({ connectionString: db.url, nodeId: 'seed', groupCommit: false });
    await publishTrustRegistry(made, seed);
    await seed.close();
    made.close();
  }
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const data = new DataDir(dir);
  data.writeConfig({ ...data.config(), chain_id: chainId });
  return attach(data, chainId);
}

async function initNode(dir: string): Promise<DataDir> {
  const { data } = initDataDir(dir, {
    chainId: 'pg-template',
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
      name: 'rules',
      version: 1,
      rules: [{ id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
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

async function attach(data: DataDir, chainId: string): Promise<Node> {
  const pg = await openPostgresStore({ connectionString: db.url, nodeId: chainId, groupCommit: false });
  stores.push(pg);
  const reached = new Set<string>();
  const view = new Proxy(pg, {
    get(target, key) {
      if (typeof key === 'string' && key.endsWith('Sync')) {
        // A networked store has no synchronous methods (calling one fails).
        // (The runtime's detection of synchronous decision reads, and the idempotency store's
        // optional synchronous peek, only look: calling any absent method would throw.)
        if (!PROBED.has(key)) reached.add(key);
        return undefined;
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as SqliteStore;
  Object.defineProperty(data, 'store', { get: () => view, configurable: true });
  return { data, pg, reached };
}

const echo = (i: number, key?: string) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  ...(key === undefined ? {} : { idempotency_key: key }),
});

const lamportOf = (r: GovernedResult): number =>
  JSON.parse(Buffer.from((r.receipt as { payload: string }).payload, 'base64url').toString('utf8')).lamport;

describe('governed calls on PostgreSQL', () => {
  it('two nodes, 24 calls each in flight, one budget of 20: exactly 20 run cluster-wide; open and calls read nothing synchronously', async () => {
    const nodes = [await node('pg-node-a'), await node('pg-node-b')];
    const runtimes = await Promise.all(
      nodes.map((n) => GovernedRuntime.open(n.data, { clock: new ManualClock(T0) })),
    );
    try {
      for (const n of nodes) {
        // Open reached no synchronous store method.
        expect([...n.reached].sort()).toEqual(OPEN_SYNC_READS);
        n.reached.clear();
      }
      const results = await Promise.all(
        runtimes.map((rt, k) =>
          Promise.all(
            Array.from({ length: 24 }, (_, i) => rt.execute(echo(100 * k + i)).catch((e: unknown) => e)),
          ),
        ),
      );
      // Calls reached no synchronous store method at all.
      for (const n of nodes) expect([...n.reached]).toEqual([]);
      const all = results.flat();
      const ran = all.filter((r) => (r as GovernedResult).status === 'SUCCEEDED');
      expect(ran).toHaveLength(CAP);
      // The others are receipted denials, never a driver run: the decision's own (BUDGET_EXCEEDED),
      // or — lost a race with the other node since its last read — the admission refused by the
      // database's ceiling check (RECEIPT_PERSIST_FAILED: the admission could not be journaled).
      for (const r of all) {
        const g = r as GovernedResult;
        if (g.status === 'SUCCEEDED') continue;
        expect(g.status, String(r)).toBe('DENIED');
        if (g.reason_code === 'RECEIPT_PERSIST_FAILED') expect(g.message).toMatch(/exceed a ceiling/);
        else expect(g.reason_code).toBe('BUDGET_EXCEEDED');
      }
      const [pa] = nodes;
      const alice = (await (pa as Node).pg.ledgerAccounts()).filter((a) =>
        a.account.endsWith('principal:alice'),
      );
      expect(alice.map((a) => [a.spent, a.reserved])).toEqual([[CAP, 0]]);
      // Each node's chain is on the database, contiguous from 1, one receipt per receipted call.
      for (const [k, n] of nodes.entries()) {
        const chain = n.data.config().chain_id;
        const stored = await n.pg.receipts({ chainId: chain });
        const receipted = (results[k] as unknown[]).filter(
          (r) => (r as GovernedResult).receipt !== undefined,
        );
        expect(stored.map((r) => r.lamport)).toEqual(
          Array.from({ length: receipted.length }, (_, i) => i + 1),
        );
        expect(receipted.map((r) => lamportOf(r as GovernedResult)).sort((a, b) => a - b)).toEqual(
          stored.map((r) => r.lamport),
        );
        for (let i = 1; i < stored.length; i++) expect(stored[i]?.prevHash).toBe(stored[i - 1]?.hash);
        expect(await n.pg.admissions(chain)).toEqual([]);
      }
    } finally {
      for (const rt of runtimes) await rt.close();
    }
  }, 180_000);

  it('an idempotent repeat on the database replays the stored result, charged once', async () => {
    const n = await node('pg-node-c');
    const rt = await GovernedRuntime.open(n.data, { clock: new ManualClock(T0 + 3_600_000) });
    try {
      const first = await rt.execute(echo(1, 'k-1'));
      const again = await rt.execute(echo(1, 'k-1'));
      expect(first.reason_code).toBe('ALLOW');
      expect(again.reason_code).toBe('IDEMPOTENT_REPLAY');
      expect(again.output).toEqual(first.output);
      const window = (await n.pg.ledgerAccounts()).filter(
        (a) => a.account.endsWith('principal:alice') && a.spent > 0 && a.account.startsWith('hour:'),
      );
      expect(window.some((a) => a.spent === 1 && a.reserved === 0)).toBe(true);
    } finally {
      await rt.close();
    }
  }, 120_000);
});
