// Governed calls on PostgreSQL (real server; fresh database for this file; HELM_TEST_DATABASE_URL
// overrides; no server = failure). With the decision path on the async port, a call — decision,
// reservation, admission, driver, receipt, idempotent replay — reads nothing synchronously: every
// call here runs against the shared database. Open reads the governance log, challenges and grants
// and the receipts' used grants through the port too; what it still reads synchronously (the trust
// registry of the data directory; docs/spec/multi-node.md §3.1)
// is answered by the data directory's embedded store in this harness and pinned below, so a new
// synchronous read on the open path fails this test, and porting one shrinks the list.
//
// Attacker: two runtime nodes (two data directories, two chains) on one database, 24 calls each in
// flight at once for one principal whose hourly budget is 20: the database admits exactly 20
// cluster-wide, every other call fails before its driver runs, and each chain has no gap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@helm/guardian';
import type { SqliteStore } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { type DataDir, type GovernedResult, GovernedRuntime, initDataDir } from '../src/index.ts';

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

/** The synchronous reads open still makes (answered by the embedded store here). */
const OPEN_SYNC_READS = ['listDocumentsSync'];

interface Node {
  readonly data: DataDir;
  readonly pg: PostgresStore;
  /** Synchronous methods reached since the last reset. */
  readonly reached: Set<string>;
}

async function node(chainId: string): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rt-pgcalls-'));
  roots.push(dir);
  const { data } = initDataDir(dir, {
    chainId,
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
  const pg = await openPostgresStore({ connectionString: db.url, nodeId: chainId, groupCommit: false });
  stores.push(pg);
  const embedded = data.store;
  const reached = new Set<string>();
  const view = new Proxy(pg, {
    get(target, key) {
      if (typeof key === 'string' && key.endsWith('Sync')) {
        // Any other synchronous method is absent, as on a networked store (calling it fails).
        if (!OPEN_SYNC_READS.includes(key)) return undefined;
        reached.add(key);
        const v = Reflect.get(embedded, key, embedded);
        return typeof v === 'function' ? v.bind(embedded) : v;
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
  it('two nodes, 24 calls each in flight, one budget of 20: exactly 20 run cluster-wide; calls read nothing synchronously', async () => {
    const nodes = [await node('pg-node-a'), await node('pg-node-b')];
    const runtimes = await Promise.all(
      nodes.map((n) => GovernedRuntime.open(n.data, { clock: new ManualClock(T0) })),
    );
    try {
      for (const n of nodes) {
        // Open still makes the pinned synchronous reads (the decision path's are gone, #18).
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
