// I-MULTINODE-2: a runtime node on a shared PostgreSQL database (attachDatabase; real server, fresh
// database for this file, HELM_TEST_DATABASE_URL overrides, no server = failure). Attackers first:
// a second process on the same chain (it would recover the live writer's admissions), a database
// that is down (nothing may run), a database holding another trust registry, a code path not yet
// ported reaching the embedded store's synchronous API, and a node whose chain lock was cut.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../store-postgres/test/harness.ts';
import { attachDatabase, DataDir, GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

const FINGERPRINT = `sha256:${'ce'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_node');
const root = mkdtempSync(join(tmpdir(), 'helm-rt-node-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

function template(name: string): DataDir {
  const { data } = initDataDir(join(root, name), {
    chainId: name,
    fingerprint: FINGERPRINT,
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

/** A node: a copy of `from` with its own chain id, no helm.db. */
function nodeDir(from: DataDir, name: string, chain = name): string {
  const dir = join(root, name);
  cpSync(from.dir, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: chain });
  return dir;
}

async function published(schema: string): Promise<DataDir> {
  const t = template(`t-${schema}`);
  const s = await openPostgresStore({
    connectionString: db.url,
    nodeId: 'setup',
    schema,
    groupCommit: false,
  });
  try {
    await publishTrustRegistry(t, s);
  } finally {
    await s.close();
  }
  t.close();
  return t;
}

const echo = (i: number) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

describe('a runtime node on a shared database', () => {
  it('attacker: a second process on the same chain is refused (CHAIN_LOCKED) while the first is open', async () => {
    const t = await published('samechain');
    const a = new DataDir(nodeDir(t, 'same-1', 'shared-chain'));
    const b = new DataDir(nodeDir(t, 'same-2', 'shared-chain'));
    await attachDatabase(a, { url: db.url, schema: 'samechain' });
    await attachDatabase(b, { url: db.url, schema: 'samechain' });
    const rt = await GovernedRuntime.open(a, { clock });
    try {
      expect((await rt.execute(echo(1))).status).toBe('SUCCEEDED');
      await expect(GovernedRuntime.open(b, { clock })).rejects.toMatchObject({ code: 'CHAIN_LOCKED' });
    } finally {
      await rt.close();
    }
    // Once the writer closed, the chain can be opened by another process (and continues it).
    const rt2 = await GovernedRuntime.open(b, { clock });
    try {
      const r = await rt2.execute(echo(2));
      expect(r.status).toBe('SUCCEEDED');
    } finally {
      await rt2.close();
      await a.closeAll();
      await b.closeAll();
    }
  });

  it('attacker: the database is down — attaching fails STORE_UNAVAILABLE and nothing is opened or written locally', async () => {
    const t = await published('down');
    const dir = nodeDir(t, 'down-1');
    const data = new DataDir(dir);
    const nowhere = 'postgres://postgres@127.0.0.1:1/none';
    await expect(attachDatabase(data, { url: nowhere, connectTimeoutMs: 500 })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    expect(data.shared).toBeUndefined();
  });

  it("attacker: a database without this deployment's trust registry, or with another, is refused before any decision", async () => {
    const lonely = template('lonely');
    const data = new DataDir(nodeDir(lonely, 'lonely-1'));
    await attachDatabase(data, { url: db.url, schema: 'empty_trust' }).catch(async () => {
      // The serving role opens without migrating: create the schema first, as the migrator would.
      const m = await openPostgresStore({ connectionString: db.url, nodeId: 'm', schema: 'empty_trust' });
      await m.close();
      await attachDatabase(data, { url: db.url, schema: 'empty_trust' });
    });
    await expect(GovernedRuntime.open(data, { clock })).rejects.toMatchObject({
      code: 'DATABASE_TRUST_MISMATCH',
    });
    await data.closeAll();
    // Another deployment's registry in the database: refused too (and not overwritten by publish).
    const other = await published('other_trust');
    const mine = new DataDir(nodeDir(lonely, 'lonely-2'));
    await attachDatabase(mine, { url: db.url, schema: 'other_trust' });
    await expect(GovernedRuntime.open(mine, { clock })).rejects.toMatchObject({
      code: 'DATABASE_TRUST_MISMATCH',
    });
    const s = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'x',
      schema: 'other_trust',
      migrate: false,
    });
    await expect(publishTrustRegistry(lonely, s)).rejects.toMatchObject({ code: 'DATABASE_TRUST_MISMATCH' });
    await s.close();
    await mine.closeAll();
    expect(other.exists()).toBe(true);
  });

  it('attacker: a code path not yet on the store port fails closed with a code, never with the embedded store', async () => {
    const t = await published('sync');
    const data = new DataDir(nodeDir(t, 'sync-1'));
    await attachDatabase(data, { url: db.url, schema: 'sync' });
    expect(() => data.registry()).toThrow(expect.objectContaining({ code: 'DATABASE_RUNTIME_UNSUPPORTED' }));
    expect(() => data.store.governanceHeadSync()).toThrow(
      expect.objectContaining({ code: 'DATABASE_RUNTIME_UNSUPPORTED' }),
    );
    expect((await data.registryAsync()).seq).toBeGreaterThan(1);
    await data.closeAll();
  });

  it('a node whose chain lock connection is cut admits nothing until it holds the lock again', async () => {
    const t = await published('cutlock');
    const data = new DataDir(nodeDir(t, 'cutlock-1'));
    await attachDatabase(data, { url: db.url, schema: 'cutlock', leaseMs: 60_000 });
    const rt = await GovernedRuntime.open(data, { clock });
    const killer = await raw(db.url);
    try {
      expect((await rt.execute(echo(1))).status).toBe('SUCCEEDED');
      const { rows } = await killer.query(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'helm:cutlock-1:leader'`,
      );
      expect(Number(rows[0]?.n)).toBe(1);
      // The lock's loss is seen on its connection's end; wait for it.
      let denied: Awaited<ReturnType<GovernedRuntime['execute']>> | undefined;
      for (let i = 0; i < 50 && denied === undefined; i++) {
        const r = await rt.execute(echo(2 + i));
        if (r.status !== 'SUCCEEDED') denied = r;
        else await new Promise((res) => setTimeout(res, 50));
      }
      expect(denied?.status).toBe('DENIED');
      expect(denied?.reason_code).toBe('RECEIPT_PERSIST_FAILED');
      // The next lease pass takes the lock again (no other process holds it): admission reopens.
      await rt.leasePass();
      expect((await rt.execute(echo(100))).status).toBe('SUCCEEDED');
    } finally {
      await killer.end();
      await rt.close();
      await data.closeAll();
    }
  });
});

describe("a dead node's admissions", () => {
  it('are receipted EXECUTION_INTERRUPTED by the next node that opens after their lease expired (never before)', async () => {
    const LEASE_MS = 1_500;
    const t = await published('dead');
    // The victim's tool never returns: its admission stays open.
    t.writeTool({
      type: 'helm.tool.v1',
      name: 'hang',
      description: 'never returns',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'run',
      driver: { kind: 'mcp', ref: 'hang', timeout_ms: 600_000 },
    });
    const bundle = {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    };
    t.writePolicy(t.p0(), bundle, t.signer('policy', 'policy'));
    t.close();
    const victim = new DataDir(nodeDir(t, 'dead-a'));
    await attachDatabase(victim, { url: db.url, schema: 'dead', leaseMs: LEASE_MS });
    let entered = (): void => undefined;
    const running = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const rt = await GovernedRuntime.open(victim, {
      clock,
      drivers: {
        mcp: () => ({
          kind: 'mcp',
          invoke: () => {
            entered();
            return new Promise<never>(() => {});
          },
        }),
      },
    });
    void rt.execute({ ...echo(0), tool: 'hang' });
    await running;
    const check = await openPostgresStore({
      connectionString: db.url,
      nodeId: 'check',
      schema: 'dead',
      migrate: false,
    });
    try {
      const open = await check.leasedAdmissions('dead-a');
      expect(open.map((a) => a.nodeId)).toEqual(['dead-a']);
      // Another node opening while the victim lives and renews takes nothing.
      const other = new DataDir(nodeDir(t, 'dead-b'));
      await attachDatabase(other, { url: db.url, schema: 'dead', leaseMs: LEASE_MS });
      const early = await GovernedRuntime.open(other, { clock });
      await early.leasePass();
      await early.close();
      expect((await check.leasedAdmissions('dead-a')).map((a) => a.nodeId)).toEqual(['dead-a']);
      // The victim "dies": its connections end, nothing of it renews (its process would be gone).
      await victim.closeAll();
      await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
      // The next node that opens takes the admission over in its first pass and receipts it.
      const late = await GovernedRuntime.open(other, { clock });
      await late.close();
      await other.closeAll();
      expect(await check.admissions()).toEqual([]);
      const receipts = await check.receipts({ chainId: 'dead-b' });
      const interrupted = receipts.filter(
        (r) =>
          JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')).reason_code ===
          'EXECUTION_INTERRUPTED',
      );
      expect(interrupted.map((r) => r.decisionId)).toEqual(open.map((a) => a.id));
    } finally {
      await check.close();
    }
  });
});
