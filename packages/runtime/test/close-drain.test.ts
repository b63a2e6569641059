// I-CONC-1: GovernedRuntime.close() under calls in flight (class: a runtime torn down under its own calls).
// close() must not return while a call it admitted is still running: the caller closes the store
// next (DataDir.closeAll), and a call left running would then hang on a closed pool forever (never
// settle, never receipt) or write after the chain lock was released. A call that starts once close()
// began is refused (RUNTIME_CLOSED) before anything is decided. Both stores: the embedded one and a
// node on the shared PostgreSQL database with every connection cut mid-burst.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, GovernedRuntime } from '../src/index.ts';
import { nodeDir, payCall, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_close');
const root = mkdtempSync(join(tmpdir(), 'helm-rt-close-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});
/** The template's `pay` tool runs a host driver (the gate below). */
const GATED = { driver: { kind: 'mcp' as const, ref: 'gate', timeout_ms: 60_000 } };

/** A host driver whose invocations wait on one gate the test opens. */
function gatedDriver() {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let entered = 0;
  let waitEntered: { n: number; resolve: () => void } | undefined;
  return {
    drivers: {
      mcp: () => ({
        kind: 'mcp',
        invoke: async (args: unknown) => {
          entered += 1;
          if (waitEntered && entered >= waitEntered.n) waitEntered.resolve();
          await gate;
          return { ok: (args as { i: number }).i };
        },
      }),
    },
    release: () => open(),
    entered: (n: number) =>
      entered >= n ? Promise.resolve() : new Promise<void>((resolve) => (waitEntered = { n, resolve })),
  };
}

const call = (i: number) => payCall(FINGERPRINT, i, 'cred-alice');

/** Turns of the event loop (macrotasks): time for a close() that does not wait to finish. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function closeUnderCalls(
  rt: GovernedRuntime,
  gate: ReturnType<typeof gatedDriver>,
  cut?: () => Promise<void>,
) {
  const N = 32;
  const order: string[] = [];
  const settled = Array.from({ length: N }, (_, i) =>
    rt.execute(call(i)).then(
      (r) => {
        order.push(`call:${r.status}`);
        return r.status as string;
      },
      (e: { code?: string }) => {
        order.push(`call:${e.code}`);
        return String(e.code);
      },
    ),
  );
  // Calls reach the driver one after another through the shared state reads; wait for the first.
  await gate.entered(1);
  await cut?.();
  let closed = false;
  const closing = rt.close().then(() => {
    closed = true;
    order.push('closed');
  });
  await turns(50);
  // The attacker's observation: close() returned while admitted calls were still running.
  expect(closed).toBe(false);
  // A call begun after close() started is refused before anything is decided.
  await expect(rt.execute(call(999))).rejects.toMatchObject({ code: 'RUNTIME_CLOSED' });
  gate.release();
  const statuses = await Promise.all(settled);
  await closing;
  // Every call settled, and each before close() returned.
  expect(order.at(-1)).toBe('closed');
  expect(order.filter((o) => o.startsWith('call:'))).toHaveLength(N);
  return statuses;
}

describe('close() with calls in flight', () => {
  it('embedded store: close() waits for every admitted call, refuses new ones, and the runtime reopens on a consistent chain', async () => {
    // The template directory itself is an embedded-store data directory.
    const t = await publishedDataDir(db.url, root, FINGERPRINT, 'closeemb', GATED);
    const gate = gatedDriver();
    const rt = await GovernedRuntime.open(t, { clock, drivers: gate.drivers });
    const statuses = await closeUnderCalls(rt, gate);
    expect(statuses.every((s) => s === 'SUCCEEDED')).toBe(true);
    expect(rt.inFlight).toBe(0);
    // Nothing was left half-done: the next runtime opens on the chain and continues it.
    const next = gatedDriver();
    next.release();
    const again = await GovernedRuntime.open(t, { clock, drivers: next.drivers });
    try {
      expect((await again.execute(call(1000))).status).toBe('SUCCEEDED');
    } finally {
      await again.close();
      t.close();
    }
  });

  it('shared database, every connection cut mid-burst: close() still waits for every call to settle before it returns', async () => {
    const t = await publishedDataDir(db.url, root, FINGERPRINT, 'closecut', GATED);
    const data = nodeDir(t, root, 'pg-node');
    await attachDatabase(data, { url: db.url, schema: 'closecut' });
    const gate = gatedDriver();
    const rt = await GovernedRuntime.open(data, { clock, drivers: gate.drivers });
    const killer = await raw(db.url);
    const cut = async () => {
      const { rows } = await killer.query(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(Number(rows[0]?.n)).toBeGreaterThan(0);
    };
    const statuses = await closeUnderCalls(rt, gate, cut).finally(() => killer.end());
    // Settled means an answer each: a result or a typed failure, never a hang.
    for (const s of statuses) expect(s).toMatch(/^[A-Z_]+$/);
    await data.closeAll();
  });
});
