// I-SERVE-6: `helmts serve` on a shared PostgreSQL database (real server, fresh database for this
// file; HELM_TEST_DATABASE_URL overrides; no server = failure, never a skip), over real HTTP on
// loopback. Every store read of the server goes through the async store port: API keys live in the
// database (a key revoked there is refused at once), a call's receipt is found by id, the receipt
// list, the transparency checkpoint and the EvidencePack come from the database — the pack
// verifies offline — and the data directory's embedded store is never opened. Attackers first: a
// database that stops answering makes /readyz 503 and every call 503 with nothing executed; two
// servers (two data directories, two chains) on one database both verify, and a shared
// idempotency key runs once cluster-wide.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { envelopeBody, verifyEvidencePack } from '@helm/evidencepack';
import { attachDatabase, DataDir, migrateDatabase, publishTrust } from '@helm/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { BIN, requireCurrentBuild } from '../../cli/test/cli-process.ts';
import { createApiKey, type HelmServer, revokeApiKey, startHelmServer } from '../src/index.ts';
import { bearer, errorCode, jsonPost, makeHome, tempRoot } from './helpers.ts';

const db = await createTestDatabase('serve');
const root = tempRoot('helm-serve-pg-');
const servers: HelmServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  await db.drop();
});

/** A node: a copy of the template directory with its own chain id and no helm.db. */
function nodeDir(template: string, name: string): string {
  const dir = join(root, name);
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: name });
  return dir;
}

/** Receipts of a chain as the database holds them (what the API said is not evidence). */
async function chainRows(chain: string): Promise<{ receipts: number; admissions: number }> {
  const c = await raw(db.url);
  try {
    const r = await c.query('SELECT count(*)::int AS n FROM receipts WHERE chain_id = $1', [chain]);
    const a = await c.query('SELECT count(*)::int AS n FROM admissions WHERE chain_id = $1', [chain]);
    return { receipts: r.rows[0].n as number, admissions: a.rows[0].n as number };
  } finally {
    await c.end();
  }
}

let template = '';
const keys = { call: '', audit: '', approve: '', revoked: '' };

beforeAll(async () => {
  template = await makeHome(root, 'template');
  await migrateDatabase({ url: db.url });
  const t = new DataDir(template);
  await publishTrust(t, { url: db.url });
  t.close();
  // The keys are written to the database through one node: every server on it accepts them.
  const d = new DataDir(nodeDir(template, 'keys-node'));
  await attachDatabase(d, { url: db.url });
  try {
    const mk = async (scopes: string[], credential: string | null = 'cred-local') =>
      (await createApiKey(d, { principal: 'local', scopes, credential })).key;
    keys.call = await mk(['call']);
    keys.audit = await mk(['audit']);
    keys.approve = await mk(['approve']);
    keys.revoked = await mk(['call']);
    await revokeApiKey(d, keys.revoked.split('_')[1] as string);
  } finally {
    await d.closeAll();
  }
});

describe('I-SERVE-6 helmts serve on a shared PostgreSQL database', () => {
  it('attacker: no, unknown or revoked keys are 401; nothing executes', async () => {
    const dir = nodeDir(template, 'auth-node');
    const s = await startHelmServer({ dataDir: dir, database: { url: db.url }, rateLimit: { rate: 0 } });
    servers.push(s);
    const call = { tool: 'echo', args: { x: 1 } };
    expect((await fetch(`${s.url}/v1/calls`, jsonPost('', call))).status).toBe(401);
    const unknown = `helm_${'0'.repeat(12)}_${'A'.repeat(43)}`;
    expect((await fetch(`${s.url}/v1/calls`, jsonPost(unknown, call))).status).toBe(401);
    const revoked = await fetch(`${s.url}/v1/calls`, jsonPost(keys.revoked, call));
    expect(revoked.status).toBe(401);
    // The approval routes, challenge runs and keys without a credential run on the database now
    // (postgres-governance.test.ts); an approval route without the scope is refused before any read.
    for (const [path, init] of [
      ['/v1/approvals', { headers: bearer(keys.call) }],
      ['/v1/calls', jsonPost(keys.approve, { challenge: `sha256:${'0'.repeat(64)}` })],
    ] as const)
      expect((await fetch(`${s.url}${path}`, init)).status).toBe(403);
    expect(await chainRows('auth-node')).toEqual({ receipts: 0, admissions: 0 });
    // The embedded store was never opened (nothing recorded beside the database).
    expect(existsSync(join(dir, 'helm.db'))).toBe(false);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('a call, its receipt by id, the receipt list, the checkpoint and a pack that verifies offline — all from the database', async () => {
    const dir = nodeDir(template, 'node-one');
    const s = await startHelmServer({ dataDir: dir, database: { url: db.url }, rateLimit: { rate: 0 } });
    servers.push(s);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { i } }));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { verdict: string; receipt: { payload: string } };
      expect(body.verdict).toBe('ALLOW');
      ids.push(envelopeBody<{ receipt_id: string }>(body.receipt as never).receipt_id);
    }
    const one = await fetch(`${s.url}/v1/calls/${ids[1]}`, { headers: bearer(keys.call) });
    expect(one.status).toBe(200);
    const found = (await one.json()) as { lamport: number; request: { args?: unknown } | null };
    expect(found.lamport).toBe(2);
    expect((found.request as { request?: { args?: unknown } } | null)?.request?.args).toEqual({ i: 1 });
    expect((await fetch(`${s.url}/v1/calls/nope`, { headers: bearer(keys.call) })).status).toBe(404);
    // The lookup by id is one indexed read over every chain of the database; a node answers only
    // for its own chain: another node does not serve this node's call, even to an auditor.
    const other = await startHelmServer({
      dataDir: nodeDir(template, 'node-one-peer'),
      database: { url: db.url },
      rateLimit: { rate: 0 },
    });
    servers.push(other);
    for (const key of [keys.call, keys.audit])
      expect((await fetch(`${other.url}/v1/calls/${ids[1]}`, { headers: bearer(key) })).status).toBe(404);
    const list = (await (await fetch(`${s.url}/v1/receipts`, { headers: bearer(keys.audit) })).json()) as {
      receipts: { id: string; lamport: number }[];
    };
    expect(list.receipts.map((r) => r.id)).toEqual(ids);
    const note = await (await fetch(`${s.url}/v1/log/checkpoint`, { headers: bearer(keys.audit) })).text();
    expect(note.split('\n')[1]).toBe('3');
    const pack = await fetch(`${s.url}/v1/evidencepack`, { headers: bearer(keys.audit) });
    expect(pack.status).toBe(200);
    const bytes = new Uint8Array(await pack.arrayBuffer());
    const anchor = new DataDir(dir).config().trust_anchor;
    const report = await verifyEvidencePack(bytes, { trustAnchor: anchor });
    expect(report.status).toBe('PASS');
    // A flipped byte in the pack does not verify (the check above could fail).
    const bad = bytes.slice();
    bad[bytes.length >> 1] = (bad[bytes.length >> 1] as number) ^ 1;
    expect((await verifyEvidencePack(bad, { trustAnchor: anchor })).status).not.toBe('PASS');
    expect(await chainRows('node-one')).toMatchObject({ receipts: 3 });
    expect(existsSync(join(dir, 'helm.db'))).toBe(false);
  });

  it("a node whose clock is off the database's answers 503 NODE_REFUSED (CLOCK_SKEW), not STORE_UNAVAILABLE; nothing runs", async () => {
    const dir = nodeDir(template, 'skewed-node');
    // One hour ahead of the database: the runtime decides nothing (CLOCK_SKEW, no receipt signed).
    const s = await startHelmServer({
      dataDir: dir,
      database: { url: db.url },
      rateLimit: { rate: 0 },
      now: () => Date.now() + 3_600_000,
    });
    servers.push(s);
    const res = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 1 } }));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string; hint?: string } };
    expect(body.error.code).toBe('NODE_REFUSED');
    expect(body.error.message).toContain('CLOCK_SKEW');
    expect(body.error.hint).toMatch(/clock/i);
    expect(await chainRows('skewed-node')).toEqual({ receipts: 0, admissions: 0 });
  });

  it('attacker: the database stops answering — /readyz 503, calls 503, nothing executes', async () => {
    // A TCP relay in front of the real server: cutting it is the database becoming unreachable.
    const target = new URL(db.url);
    const sockets = new Set<Socket>();
    let relay: Server | undefined;
    const listen = (port: number) =>
      new Promise<number>((resolve) => {
        relay = createServer((inbound) => {
          const out = createConnection(Number(target.port || 5432), target.hostname);
          sockets.add(inbound).add(out);
          inbound.pipe(out).pipe(inbound);
          const drop = () => {
            inbound.destroy();
            out.destroy();
          };
          inbound.on('error', drop).on('close', drop);
          out.on('error', drop).on('close', drop);
        });
        const r = relay;
        r.listen(port, '127.0.0.1', () => resolve((r.address() as { port: number }).port));
      });
    const relayPort = await listen(0);
    const via = new URL(db.url);
    via.hostname = '127.0.0.1';
    via.port = String(relayPort);
    const dir = nodeDir(template, 'node-cut');
    const s = await startHelmServer({
      dataDir: dir,
      database: { url: via.toString(), connectTimeoutMs: 1000 },
      rateLimit: { rate: 0 },
    });
    servers.push(s);
    const ok = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: 0 } }));
    expect(ok.status).toBe(200);
    const before = await chainRows('node-cut');
    expect(before.receipts).toBe(1);
    // Cut: stop accepting and destroy every relayed connection.
    await new Promise<void>((resolve) => {
      relay?.close(() => resolve());
      for (const so of sockets) so.destroy();
    });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { store: string } }).checks.store).toMatch(/^unavailable/);
    for (let i = 1; i <= 3; i++) {
      const res = await fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x: i } }));
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('STORE_UNAVAILABLE');
    }
    // Nothing was admitted or receipted while the database was away (read directly, not via relay).
    expect(await chainRows('node-cut')).toEqual(before);
  });

  it('two servers (two data directories, two chains) on one database: both packs verify, and a shared idempotency key runs once', async () => {
    const dirs = [nodeDir(template, 'node-a'), nodeDir(template, 'node-b')];
    const [a, b] = await Promise.all(
      dirs.map((dir) => startHelmServer({ dataDir: dir, database: { url: db.url }, rateLimit: { rate: 0 } })),
    );
    servers.push(a as HelmServer, b as HelmServer);
    const burst = (s: HelmServer, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          fetch(`${s.url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { i } })).then(
            (r) => r.status,
          ),
        ),
      );
    const statuses = await Promise.all([burst(a as HelmServer, 16), burst(b as HelmServer, 16)]);
    expect(statuses.flat().every((st) => st === 200)).toBe(true);
    // One idempotency key sent to both servers: the second is answered from the first.
    const first = await fetch(
      `${(a as HelmServer).url}/v1/calls`,
      jsonPost(keys.call, { tool: 'echo', args: { k: 1 }, idempotency_key: 'shared-key-1' }),
    );
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as { replayed: boolean };
    expect(firstBody.replayed).toBe(false);
    const second = await fetch(
      `${(b as HelmServer).url}/v1/calls`,
      jsonPost(keys.call, { tool: 'echo', args: { k: 1 }, idempotency_key: 'shared-key-1' }),
    );
    const secondBody = (await second.json()) as { replayed: boolean; status: string };
    expect(secondBody.replayed).toBe(true);
    for (const [i, s] of [a, b].entries()) {
      const pack = await fetch(`${(s as HelmServer).url}/v1/evidencepack`, { headers: bearer(keys.audit) });
      const bytes = new Uint8Array(await pack.arrayBuffer());
      const report = await verifyEvidencePack(bytes, {
        trustAnchor: new DataDir(dirs[i] as string).config().trust_anchor,
      });
      expect(report.status).toBe('PASS');
    }
    const rows = [await chainRows('node-a'), await chainRows('node-b')];
    // 16 calls each, plus the keyed call: run on A, answered on B from A's stored result (its
    // receipt on B's chain records the replayed answer, not a second run).
    expect(rows.map((r) => r?.receipts)).toEqual([17, 17]);
  });

  it('two `helmts serve --database-url` processes on one database (keys made with `serve keys create --database-url`): both chains verify; SIGTERM exits 0', async () => {
    requireCurrentBuild();
    const env = { ...process.env, HELM_DATABASE_URL: db.url };
    const key = spawnSync(
      process.execPath,
      [
        BIN,
        '--data-dir',
        nodeDir(template, 'proc-keys'),
        'serve',
        'keys',
        'create',
        '--principal',
        'local',
        '--scope',
        'call',
        '--scope',
        'audit',
        '--credential',
        'cred-local',
        '--json',
      ],
      { encoding: 'utf8', env },
    );
    expect(key.status, key.stdout + key.stderr).toBe(0);
    const apiKey = (JSON.parse(key.stdout) as { key: string }).key;
    const dirs = [nodeDir(template, 'proc-a'), nodeDir(template, 'proc-b')];
    const children: ChildProcess[] = [];
    try {
      const urls = await Promise.all(
        dirs.map(
          (dir) =>
            new Promise<string>((resolve, reject) => {
              const child = spawn(
                process.execPath,
                [BIN, '--data-dir', dir, 'serve', '--port', '0', '--rate', '0', '--json'],
                { env, stdio: ['ignore', 'pipe', 'pipe'] },
              );
              children.push(child);
              let out = '';
              child.stdout?.on('data', (d: Buffer) => {
                out += d.toString();
                if (out.includes('\n'))
                  resolve((JSON.parse(out.slice(0, out.indexOf('\n'))) as { listening: string }).listening);
              });
              child.stderr?.on('data', (d: Buffer) => {
                out += d.toString();
              });
              child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
            }),
        ),
      );
      const statuses = await Promise.all(
        urls.flatMap((u) =>
          Array.from({ length: 8 }, (_, i) =>
            fetch(`${u}/v1/calls`, jsonPost(apiKey, { tool: 'echo', args: { i } })).then((r) => r.status),
          ),
        ),
      );
      expect(statuses.every((st) => st === 200)).toBe(true);
      for (const [i, u] of urls.entries()) {
        const pack = new Uint8Array(
          await (await fetch(`${u}/v1/evidencepack`, { headers: bearer(apiKey) })).arrayBuffer(),
        );
        const anchor = new DataDir(dirs[i] as string).config().trust_anchor;
        expect((await verifyEvidencePack(pack, { trustAnchor: anchor })).status).toBe('PASS');
      }
      const exits = children.map(
        (c) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))),
      );
      for (const c of children) c.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    }
    expect([await chainRows('proc-a'), await chainRows('proc-b')].map((r) => r.receipts)).toEqual([8, 8]);
    for (const dir of dirs) expect(existsSync(join(dir, 'helm.db'))).toBe(false);
  });
});
