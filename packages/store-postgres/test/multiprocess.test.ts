// I-MULTINODE-1 with REAL processes: 2–3 node processes (test/fixtures/node-worker.ts) × 32
// concurrent calls each against one database, through the durable-admission protocol (reserve →
// admit → driver → receipt). Checked after every scenario: each chain verifies with contiguous
// Lamports, no admission's driver ran twice, every driver run has exactly one receipt, and the
// shared budget is exact (spent = receipted calls, nothing left reserved, never above the
// ceiling). Scenarios: a clean burst; one node SIGKILLed mid-burst (its open admissions are
// receipted EXECUTION_INTERRUPTED by another node only after their lease expired — never while
// the owner is alive); the store connections cut with pg_terminate_backend during the burst.
// These are store-level nodes: the governed runtime on PostgreSQL is pending (docs/deployment.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS, makeCall, verifyChain } from '../../store/test/fixtures/chain.ts';
import { openPostgresStore } from '../src/index.ts';
import { createTestDatabase, raw } from './harness.ts';

// The workers load the BUILT package (dist), as a deployed node would: refuse a stale build
// rather than test old code.
const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
const pkg = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(pkg, 'dist')) || newest(join(pkg, 'dist')) < newest(join(pkg, 'src')))
  throw new Error('packages/store-postgres/dist is older than its sources: run `pnpm build` first');

const db = await createTestDatabase('multiprocess');
afterAll(() => db.drop());
const WORKER = fileURLToPath(new URL('./fixtures/node-worker.ts', import.meta.url));
const CONCURRENCY = 32;

interface Event {
  node: string;
  admitted?: string;
  executed?: string;
  ack?: string;
  denied?: string;
  failed?: string;
  done?: boolean;
  code?: string;
}

interface Worker {
  readonly child: ChildProcess;
  readonly events: Event[];
  readonly exited: Promise<number | null>;
  /** Resolves once `predicate` holds for the events so far. */
  until(predicate: (events: readonly Event[]) => boolean): Promise<void>;
}

function startNode(job: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Event[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    buffer += String(chunk);
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      events.push(JSON.parse(buffer.slice(0, nl)) as Event);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (c) => {
    stderr += String(c);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`worker ${String(job.nodeId)}: ${stderr}\n`);
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  return {
    child,
    events,
    exited,
    until: (predicate) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(events)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null)
            reject(new Error(`worker ended first: ${stderr}`));
        };
        waiters.push(check);
        check();
      }),
  };
}

let n = 0;
async function cluster(): Promise<{ schema: string; url: string }> {
  const schema = `p${++n}`;
  const s = await openPostgresStore({ connectionString: db.url, nodeId: 'setup', schema });
  await s.close();
  const c = await raw(db.url);
  try {
    await c.query(`CREATE TABLE ${schema}.effects (admission_id text NOT NULL, node text NOT NULL)`);
  } finally {
    await c.end();
  }
  return { schema, url: db.url };
}

/** The invariants every scenario must end with; returns the receipted admission count. */
async function checkCluster(schema: string, ceiling: number, nodes: readonly string[]): Promise<number> {
  const c = await raw(db.url);
  try {
    const dup = await c.query(
      `SELECT admission_id, count(*) AS n FROM ${schema}.effects GROUP BY admission_id HAVING count(*) > 1`,
    );
    expect(dup.rows, 'an admission whose driver ran twice').toEqual([]);
    // Every receipt closes one admission, each admission has at most one receipt, and every
    // driver run is receipted (by its node, or as interrupted by another).
    const receipted = await c.query<{ admission: string | null }>(
      `SELECT q.body::json->>'admission' AS admission FROM ${schema}.receipts r
       LEFT JOIN ${schema}.requests q ON q.receipt_id = r.receipt_id`,
    );
    const admissions = receipted.rows.map((r) => r.admission);
    expect(admissions.every((a) => typeof a === 'string')).toBe(true);
    expect(new Set(admissions).size).toBe(admissions.length);
    const ran = await c.query<{ admission_id: string }>(`SELECT admission_id FROM ${schema}.effects`);
    const receiptedSet = new Set(admissions);
    expect(
      ran.rows.filter((r) => !receiptedSet.has(r.admission_id)),
      'a driver run without receipt',
    ).toEqual([]);
    const open = await c.query(`SELECT admission_id FROM ${schema}.admissions`);
    expect(open.rows, 'admissions left open').toEqual([]);
    const ledger = await c.query(
      `SELECT spent, reserved FROM ${schema}.ledger_accounts WHERE account = 'shared'`,
    );
    const spent = Number(ledger.rows[0]?.spent ?? 0);
    expect(Number(ledger.rows[0]?.reserved ?? 0), 'units still reserved').toBe(0);
    expect(spent).toBeLessThanOrEqual(ceiling);
    const left = await c.query(`SELECT count(*) AS n FROM ${schema}.ledger_reservations`);
    expect(Number(left.rows[0]?.n)).toBe(0);
    const total = await c.query(`SELECT count(*) AS n FROM ${schema}.receipts`);
    // Every receipt charged exactly one unit: the budget is exact.
    expect(spent).toBe(Number(total.rows[0]?.n));
    const effects = await c.query(`SELECT count(*) AS n FROM ${schema}.effects`);
    expect(Number(effects.rows[0]?.n)).toBeLessThanOrEqual(spent);
    // Chains: one per node, each verifies with contiguous Lamports.
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'checker',
      schema,
      migrate: false,
    });
    try {
      for (const node of nodes) {
        const chain = await s.receipts({ chainId: node });
        expect(verifyChain(chain)).toBe(chain.length);
      }
    } finally {
      await s.close();
    }
    return spent;
  } finally {
    await c.end();
  }
}

const acked = (w: Worker): string[] => w.events.filter((e) => e.ack).map((e) => e.ack as string);

describe('I-MULTINODE-1: real node processes on one database', () => {
  it('3 processes × 32 concurrent calls: chains verify, no duplicate execution, budget exact at its ceiling', async () => {
    const { schema, url } = await cluster();
    const ceiling = 150;
    const nodes = ['node-a', 'node-b', 'node-c'];
    const workers = nodes.map((nodeId) =>
      startNode({
        url,
        schema,
        nodeId,
        calls: 64,
        concurrency: CONCURRENCY,
        ceiling,
        leaseMs: 30_000,
        driverMs: 0,
      }),
    );
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
    const spent = await checkCluster(schema, ceiling, nodes);
    // 192 calls competed for 150 units: exactly the ceiling was admitted, the rest denied.
    expect(spent).toBe(ceiling);
    const events = workers.flatMap((w) => w.events);
    expect(events.filter((e) => e.ack).length).toBe(ceiling);
    expect(events.filter((e) => e.denied).every((e) => e.code === 'BUDGET_EXCEEDED')).toBe(true);
    expect(events.filter((e) => e.failed)).toEqual([]);
    // Executions and receipts match one to one.
    expect(new Set(events.filter((e) => e.executed).map((e) => e.executed))).toEqual(
      new Set(events.filter((e) => e.ack).map((e) => e.ack)),
    );
  });

  it('one node SIGKILLed mid-burst: no acknowledged receipt lost; its open admissions are receipted interrupted by another node only after lease expiry', async () => {
    const { schema, url } = await cluster();
    const ceiling = 1000;
    const leaseMs = 3000;
    const base = { url, schema, concurrency: CONCURRENCY, ceiling, leaseMs, driverMs: 40 };
    const victim = startNode({ ...base, nodeId: 'node-v', calls: 400 });
    const survivor = startNode({ ...base, nodeId: 'node-s', calls: 64 });
    await victim.until(
      (ev) => ev.filter((e) => e.ack).length >= 10 && ev.filter((e) => e.admitted).length >= 40,
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    const ackedByVictim = acked(victim);

    // The recovering node: while the victim's leases are live, nothing can be taken over.
    const rescuer = await openPostgresStore({
      connectionString: url,
      nodeId: 'node-r',
      schema,
      migrate: false,
      leaseMs,
    });
    try {
      const early = await rescuer.takeOverExpired();
      expect(early).toEqual([]);
      const openNow = await rescuer.leasedAdmissions();
      const victims = openNow.filter((a) => a.nodeId === 'node-v');
      expect(victims.length).toBeGreaterThan(0);
      const killedAt = Date.now();
      const taken: Awaited<ReturnType<typeof rescuer.takeOverExpired>>[number][] = [];
      while (taken.length < victims.length) {
        await new Promise((r) => setTimeout(r, 200));
        for (const a of await rescuer.takeOverExpired()) {
          // Never before its lease ran out on the database clock.
          const before = victims.find((v) => v.id === a.id);
          expect(before).toBeDefined();
          expect(Date.now()).toBeGreaterThanOrEqual((before?.leaseUntil ?? 0) - 1000);
          taken.push(a);
        }
        expect(Date.now() - killedAt).toBeLessThan(4 * leaseMs + 10_000);
      }
      expect(taken.map((a) => a.id).sort()).toEqual(victims.map((a) => a.id).sort());
      // Receipt each one EXECUTION_INTERRUPTED on the rescuer's own chain, charging its reservation.
      let state = { lamport: 0, hash: GENESIS };
      for (const [i, a] of taken.entries()) {
        const call = makeCall(state, 'node-r', i, 'node-r');
        await rescuer.commitCall({
          ...call,
          request: { id: `q-int-${a.id}`, body: { admission: a.id, code: 'EXECUTION_INTERRUPTED' } },
          admissionId: a.id,
          ledger: a.reservationId ? [{ op: 'commit', id: a.reservationId }] : [],
        });
        state = { lamport: call.receipt.lamport, hash: call.receipt.hash };
      }
      // The victim's reservations that no admission held are refunded once their lease expired.
      await rescuer.takeOverExpired();
    } finally {
      await rescuer.close();
    }
    expect(await survivor.exited).toBe(0);
    await checkCluster(schema, ceiling, ['node-v', 'node-s', 'node-r']);
    // No acknowledged receipt of the killed node was lost.
    const c = await raw(url);
    try {
      const { rows } = await c.query(
        `SELECT count(*) AS n FROM ${schema}.receipts WHERE chain_id = 'node-v'`,
      );
      expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(ackedByVictim.length);
    } finally {
      await c.end();
    }
  });

  it('store connections cut with pg_terminate_backend mid-burst: failures deny before any driver, no duplicates, budget exact', async () => {
    const { schema, url } = await cluster();
    const ceiling = 1000;
    const nodes = ['node-x', 'node-y'];
    const workers = nodes.map((nodeId) =>
      startNode({
        url,
        schema,
        nodeId,
        calls: 96,
        concurrency: CONCURRENCY,
        ceiling,
        leaseMs: 30_000,
        driverMs: 5,
      }),
    );
    const killer = await raw(url);
    let cuts = 0;
    try {
      await workers[0]?.until((ev) => ev.filter((e) => e.ack).length >= 5);
      for (let round = 0; round < 4; round++) {
        const { rows } = await killer.query(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'helm:node-%'`,
        );
        cuts += Number(rows[0]?.n);
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      await killer.end();
    }
    expect(cuts).toBeGreaterThan(0);
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
    const events = workers.flatMap((w) => w.events);
    // Every call either got its receipt or was refused before its driver (no driver without admission).
    const executed = new Set(events.filter((e) => e.executed).map((e) => e.executed));
    const denied = events.filter((e) => e.denied);
    for (const d of denied) expect(executed.has(d.denied)).toBe(false);
    expect(events.filter((e) => e.failed)).toEqual([]);
    expect(new Set(events.filter((e) => e.ack).map((e) => e.ack))).toEqual(executed);
    const spent = await checkCluster(schema, ceiling, nodes);
    expect(spent).toBe(executed.size);
  });
});
