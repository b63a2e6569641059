// I-MULTINODE-2: the governed runtime on PostgreSQL with REAL processes (real server; fresh database
// for this file, one schema per scenario; HELM_TEST_DATABASE_URL overrides; no server = failure).
// Each node is a separate `node` process running the BUILT @helm/runtime (test/fixtures/pg-node.ts)
// on its own data directory — copies of one (one trust root), each with its own chain id — whose
// store is the shared database (attachDatabase: no helm.db in the loop). The tool records every
// execution (O_APPEND file + stdout) so a double execution is visible even across a SIGKILL.
// After every scenario: each chain exports from the database as an EvidencePack that verifies
// offline, Lamports are contiguous from 1, no call's driver ran twice, every execution has exactly
// one receipt on some chain (SUCCEEDED, or EXECUTION_INTERRUPTED), and the shared budget is exact.
// Scenarios: a clean burst of 3 nodes (one principal's hourly budget, exceeded cluster-wide, admits exactly
// its ceiling); one node SIGKILLed mid-burst (its acknowledged receipts survive; its open
// admissions are receipted EXECUTION_INTERRUPTED by the other node only after their lease
// expired, never while the owner lived); the database connections of every node cut with
// pg_terminate_backend mid-burst, repeatedly (calls fail closed — no driver without a durable
// admission — and the nodes recover and finish).
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyEvidencePack } from '@helm/evidencepack';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { DataDir, exportPackFrom, initDataDir, publishTrustRegistry } from '../src/index.ts';

// The nodes load the BUILT packages (dist), as a deployed node would: refuse a stale build.
const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
for (const p of ['..', '../../store-postgres']) {
  const pkg = fileURLToPath(new URL(p, import.meta.url));
  if (!existsSync(join(pkg, 'dist')) || newest(join(pkg, 'dist')) < newest(join(pkg, 'src')))
    throw new Error(`${pkg}/dist is older than its sources: run \`pnpm build\` first`);
}

const NODE = fileURLToPath(new URL('./fixtures/pg-node.ts', import.meta.url));
const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const CONCURRENCY = 32;
const db = await createTestDatabase('rt_mproc');
const roots: string[] = [];
afterAll(async () => {
  await db.drop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

interface Event {
  exec?: string;
  ack?: string;
  status?: string;
  reason?: string;
  receipt?: string | null;
  threw?: string;
  code?: string;
  done?: boolean;
  opened?: number;
  reopened?: number;
  open_failed?: string;
  unhandled?: string;
}

interface NodeProcess {
  readonly dir: string;
  readonly chain: string;
  readonly child: ChildProcess;
  readonly events: Event[];
  readonly exited: Promise<number | null>;
  until(predicate: (events: readonly Event[]) => boolean, what: string): Promise<void>;
  /** End its stdin: the node closes its runtime and exits 0. */
  finish(): void;
}

/** One deployment in its own schema: a migrated schema, a template data directory, its registry published. */
async function cluster(schema: string, cap: number) {
  const root = mkdtempSync(join(tmpdir(), 'helm-rt-mproc-'));
  roots.push(root);
  const template = join(root, 'template');
  const { data, anchor } = initDataDir(template, {
    chainId: 'template',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 100_000,
        default_tenant_max: 100_000,
        principals: { alice: cap },
        window: 'hour',
      },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [
        { id: 'record', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'record' } } },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'record',
    description: 'records its execution (a host driver)',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'mcp', ref: 'recorder', timeout_ms: 60_000 },
  });
  // The migrating role creates the schema; the template's registry goes into the database once.
  const setup = await openPostgresStore({
    connectionString: db.url,
    nodeId: 'setup',
    schema,
    groupCommit: false,
  });
  try {
    expect((await publishTrustRegistry(data, setup)).written).toBeGreaterThan(0);
  } finally {
    await setup.close();
  }
  data.close();
  const execLog = join(root, 'executions.log');
  const start = (
    name: string,
    job: { calls: number; leaseMs: number; driverMs: number; slowFrom?: number },
  ): NodeProcess => {
    const dir = join(root, name);
    cpSync(template, dir, { recursive: true });
    rmSync(join(dir, 'helm.db'), { force: true });
    const node = new DataDir(dir);
    node.writeConfig({ ...node.config(), chain_id: name });
    const child = spawn(
      process.execPath,
      [
        NODE,
        JSON.stringify({
          url: db.url,
          schema,
          dir,
          concurrency: CONCURRENCY,
          execLog,
          fingerprint: FINGERPRINT,
          ...job,
        }),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const events: Event[] = [];
    const waiters = new Set<() => void>();
    let buffer = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      buffer += String(chunk);
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        events.push(JSON.parse(buffer.slice(0, nl)) as Event);
        buffer = buffer.slice(nl + 1);
      }
      for (const w of waiters) w();
    });
    child.stderr?.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        if (code !== 0 && code !== null) process.stderr.write(`node ${name}: ${stderr}\n`);
        for (const w of waiters) w();
        resolve(code);
      }),
    );
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    return {
      dir,
      chain: name,
      child,
      events,
      exited,
      finish: () => child.stdin?.end(),
      until: (predicate, what) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (predicate(events)) {
              waiters.delete(check);
              resolve();
            } else if (gone) {
              waiters.delete(check);
              reject(new Error(`node ${name} exited before ${what}: ${stderr.slice(-2000)}`));
            }
          };
          waiters.add(check);
          check();
        }),
    };
  };
  return { root, anchor, execLog, start };
}

async function store(schema: string): Promise<PostgresStore> {
  return openPostgresStore({
    connectionString: db.url,
    nodeId: 'checker',
    schema,
    groupCommit: false,
    migrate: false,
  });
}

const receiptBody = (envelope: unknown) =>
  JSON.parse(Buffer.from((envelope as { payload: string }).payload, 'base64url').toString('utf8')) as {
    lamport: number;
    status: string;
    reason_code: string;
    decision_id: string;
    issued_at_ms: number;
    tool: string;
  };

/**
 * The cluster's invariants: every chain contiguous and its export verifying offline; executions
 * unique, each with exactly one receipt; the budget spent exactly the receipted executions.
 */
async function checkCluster(
  schema: string,
  anchor: string,
  execLog: string,
  nodes: readonly NodeProcess[],
): Promise<{ spent: number; executed: string[]; interrupted: number }> {
  const s = await store(schema);
  try {
    const executed = existsSync(execLog) ? readFileSync(execLog, 'utf8').split('\n').filter(Boolean) : [];
    // No driver ran twice.
    expect(executed.length).toBe(new Set(executed).size);
    let receiptedRuns = 0;
    let interrupted = 0;
    const runs = new Map<string, number>();
    for (const n of nodes) {
      const stored = await s.receipts({ chainId: n.chain });
      expect(stored.map((r) => r.lamport)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      for (let i = 1; i < stored.length; i++) expect(stored[i]?.prevHash).toBe(stored[i - 1]?.hash);
      const decisions = new Set((await s.decisions(stored.map((r) => r.decisionId))).map((d) => d.id));
      for (const r of stored) {
        const b = receiptBody(r.envelope);
        if (b.status === 'SUCCEEDED' || b.reason_code === 'EXECUTION_INTERRUPTED') {
          receiptedRuns++;
          if (b.reason_code === 'EXECUTION_INTERRUPTED') interrupted++;
          runs.set(b.decision_id, (runs.get(b.decision_id) ?? 0) + 1);
          expect(decisions.has(b.decision_id)).toBe(true);
        }
      }
      // The chain exports from the database as a pack that verifies offline.
      if (stored.length > 0) {
        const data = new DataDir(n.dir).attachStore(s);
        const pack = await exportPackFrom(data, s);
        const verdict = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor });
        expect(verdict.status, JSON.stringify(verdict).slice(0, 2000)).toBe('PASS');
      }
    }
    // One receipt per admitted call, never two.
    for (const count of runs.values()) expect(count).toBe(1);
    expect(await s.admissions()).toEqual([]);
    const alice = (await s.ledgerAccounts()).filter((a) => a.account.endsWith('principal:alice'));
    const spent = alice.reduce((t, a) => t + a.spent, 0);
    expect(alice.every((a) => a.reserved === 0)).toBe(true);
    // Every execution was charged exactly once (SUCCEEDED, or interrupted: the effect may have happened).
    expect(spent).toBe(receiptedRuns);
    return { spent, executed, interrupted };
  } finally {
    await s.close();
  }
}

describe('runtime nodes as real processes on one database', () => {
  it('3 nodes × 32 in flight, one hourly budget exceeded cluster-wide: exactly the ceiling runs, chains verify, no double execution', async () => {
    const CAP = 100;
    const c = await cluster('clean', CAP);
    const nodes = ['clean-a', 'clean-b', 'clean-c'].map((name) =>
      c.start(name, { calls: 60, leaseMs: 30_000, driverMs: 5 }),
    );
    for (const n of nodes) await n.until((ev) => ev.some((e) => e.done), 'its calls');
    for (const n of nodes) n.finish();
    expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0, 0]);
    const events = nodes.flatMap((n) => n.events);
    expect(events.filter((e) => e.threw || e.unhandled)).toEqual([]);
    const acks = events.filter((e) => e.ack);
    expect(acks).toHaveLength(180);
    const ran = acks.filter((e) => e.status === 'SUCCEEDED');
    expect(ran).toHaveLength(CAP);
    // The rest were denied before any driver: by the decision, or by the database's ceiling check.
    for (const e of acks.filter((a) => a.status !== 'SUCCEEDED')) {
      expect(e.status).toBe('DENIED');
      expect(['BUDGET_EXCEEDED', 'RECEIPT_PERSIST_FAILED']).toContain(e.reason);
    }
    const { spent, executed } = await checkCluster('clean', c.anchor, c.execLog, nodes);
    expect(spent).toBe(CAP);
    expect(new Set(executed)).toEqual(new Set(ran.map((e) => e.ack)));
  });

  it('a node SIGKILLed mid-burst: its acknowledged receipts survive, its open admissions are receipted EXECUTION_INTERRUPTED by the other node only after their lease expired', async () => {
    const LEASE_MS = 2_000;
    const c = await cluster('crash', 100_000);
    // The victim's first 20 calls finish (acknowledged); its next 32 drivers never do: every one
    // of those admissions is open when it dies.
    const victim = c.start('crash-a', { calls: 52, leaseMs: LEASE_MS, driverMs: 120_000, slowFrom: 20 });
    const survivor = c.start('crash-b', { calls: 40, leaseMs: LEASE_MS, driverMs: 5 });
    await victim.until((ev) => ev.filter((e) => e.exec).length >= 52, 'its admissions');
    await survivor.until((ev) => ev.some((e) => e.done), 'its calls');
    const s = await store('crash');
    try {
      const before = await s.leasedAdmissions('crash-a');
      expect(before.length).toBe(CONCURRENCY);
      // While the victim lives (and renews), nothing of it is taken: wait past one lease.
      await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
      expect((await s.leasedAdmissions('crash-a')).map((a) => a.nodeId)).toEqual(before.map(() => 'crash-a'));
      expect(
        (await s.receipts({ chainId: 'crash-b' })).filter(
          (r) => receiptBody(r.envelope).reason_code === 'EXECUTION_INTERRUPTED',
        ),
      ).toEqual([]);
      const acked = victim.events.filter((e) => e.ack).map((e) => e.receipt);
      expect(acked).toHaveLength(20);
      const atKill = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      // After its lease expires the survivor's LeaseKeeper takes them over and receipts them.
      const deadline = Date.now() + 30_000;
      while ((await s.admissions()).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(await s.admissions()).toEqual([]);
      const interrupted = (await s.receipts({ chainId: 'crash-b' })).filter(
        (r) => receiptBody(r.envelope).reason_code === 'EXECUTION_INTERRUPTED',
      );
      expect(new Set(interrupted.map((r) => receiptBody(r.envelope).decision_id))).toEqual(
        new Set(before.map((a) => a.id)),
      );
      // Never before the lease the victim last renewed could have expired.
      for (const r of interrupted) expect(receiptBody(r.envelope).issued_at_ms).toBeGreaterThan(atKill);
      // The victim's acknowledged receipts are all on its chain.
      const hashes = new Set((await s.receipts({ chainId: 'crash-a' })).map((r) => r.hash));
      for (const h of acked) expect(hashes.has(h as string)).toBe(true);
    } finally {
      await s.close();
    }
    survivor.finish();
    expect(await survivor.exited).toBe(0);
    const { executed, interrupted } = await checkCluster('crash', c.anchor, c.execLog, [victim, survivor]);
    expect(interrupted).toBe(CONCURRENCY);
    expect(executed.length).toBe(52 + 40);
  });

  it('every node connection cut with pg_terminate_backend mid-burst: calls fail closed (no driver without admission), the nodes recover and finish', async () => {
    const c = await cluster('cut', 100_000);
    const nodes = ['cut-a', 'cut-b'].map((name) =>
      c.start(name, { calls: 96, leaseMs: 30_000, driverMs: 10 }),
    );
    const killer = await raw(db.url);
    let cuts = 0;
    try {
      await nodes[0]?.until((ev) => ev.filter((e) => e.ack).length >= 5, 'five receipts');
      for (let round = 0; round < 4; round++) {
        const { rows } = await killer.query(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'helm:cut-%'`,
        );
        cuts += Number(rows[0]?.n);
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      await killer.end();
    }
    expect(cuts).toBeGreaterThan(0);
    for (const n of nodes) await n.until((ev) => ev.some((e) => e.done), 'its calls');
    for (const n of nodes) n.finish();
    expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0]);
    const events = nodes.flatMap((n) => n.events);
    expect(events.filter((e) => e.unhandled)).toEqual([]);
    const acks = events.filter((e) => e.ack);
    const threw = events.filter((e) => e.threw);
    // Every call ended: answered (a receipt), or failed because its receipt could not be committed
    // (the node then reopened: the admission is receipted EXECUTION_INTERRUPTED) — checkCluster
    // finds exactly one receipt per execution either way.
    expect(acks.length + threw.length).toBe(192);
    for (const t of threw)
      expect(t.code === 'RUNTIME_HALTED' || t.code?.startsWith('STORE_'), t.code).toBe(true);
    const executed = new Set(events.filter((e) => e.exec).map((e) => e.exec));
    for (const a of acks.filter((e) => e.status === 'DENIED')) expect(executed.has(a.ack)).toBe(false);
    const { spent, interrupted } = await checkCluster('cut', c.anchor, c.execLog, nodes);
    expect(spent).toBe(executed.size);
    // What the cuts did this run (informative: how many the store's one retry absorbed varies).
    console.info(
      `pg_terminate_backend: ${cuts} backends cut; ${acks.length} calls answered (${acks.filter((e) => e.status === 'SUCCEEDED').length} SUCCEEDED), ` +
        `${threw.length} failed with their receipt uncommitted, ${events.filter((e) => e.reopened !== undefined).length} runtime reopens, ${interrupted} receipted EXECUTION_INTERRUPTED`,
    );
  });
});
