// Red team (PostgreSQL): I-FAILCLOSED-3 / I-MULTINODE-2 against the Network attacker (threat model:
// "bytes between nodes, server, gateway and PostgreSQL"; it does not control TLS-protected
// contents). Nothing in `attachDatabase` / `@helm/store-postgres` asks for TLS: a node given a
// database on another host (`postgres://helm@db:5432/helm`, the form docs/deployment.md shows)
// speaks the PostgreSQL protocol in clear text. An on-path attacker then reads and REWRITES every
// answer the node's safety rests on — it can acknowledge an admission that was never written (an
// effect with no durable admission), serve a ledger snapshot with room left (overspend), or hide
// an idempotency record. Here a relay on this host's non-loopback address stands in for the path:
// it sees the node's SQL in clear. A fixed node insists on TLS for a non-local host (refusing the
// server's 'N' to its SSLRequest, as this relay answers), so it sends no SQL in clear — or refuses.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { attachDatabase, type DataDir, GovernedRuntime } from '../src/index.ts';
import { nodeDir as nodeDirOf, publishedDataDir } from './pg-node-fixture.ts';

const FINGERPRINT = `sha256:${'c7'.repeat(32)}`;
const clock = { now: () => Date.now() };
const db = await createTestDatabase('rt_rp_tls');
const root = mkdtempSync(join(tmpdir(), 'helm-rp-tls-'));
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

const published = (schema: string): Promise<DataDir> => publishedDataDir(db.url, root, FINGERPRINT, schema);

const nodeDir = (from: DataDir, name: string): DataDir => nodeDirOf(from, root, name);

function remoteAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  throw new Error('this test needs a non-loopback IPv4 address on the host');
}

describe('redteam-pg: the path to PostgreSQL (Network attacker)', () => {
  it('a node never sends its SQL in clear text to a database on another host', async () => {
    const t = await published('tls');
    const target = new URL(db.url);
    const seen: Buffer[] = [];
    const sockets: Socket[] = [];
    const relay = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.push(client, upstream);
      client.on('data', (d: Buffer) => {
        seen.push(d);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => client.write(d));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const host = remoteAddress();
    await new Promise<void>((r) => relay.listen(0, host, () => r()));
    const port = (relay.address() as { port: number }).port;
    const remote = new URL(db.url);
    remote.hostname = host;
    remote.port = String(port);
    const a = nodeDir(t, 'tls-a');
    try {
      try {
        await attachDatabase(a, { url: remote.toString(), schema: 'tls', connectTimeoutMs: 3_000 });
        const rt = await GovernedRuntime.open(a, { clock });
        try {
          await rt.execute({
            tool: 'pay',
            principal: 'alice',
            args: { amount: 1 } as never,
            context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
          });
        } finally {
          await rt.close();
        }
      } catch {
        // Refusing a database reached without TLS is the fail-closed answer.
      }
      const clear = Buffer.concat(seen).toString('latin1');
      expect(/INSERT INTO|SELECT /.test(clear), 'SQL crossed the path in clear text').toBe(false);
    } finally {
      await a.closeAll();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
