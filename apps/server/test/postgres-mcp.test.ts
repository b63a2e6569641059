// I-MCP-10 / I-MCP-3 / I-SERVE-7: `/mcp` on `helmts serve --mcp --database-url` (docs/deployment.md): a real
// SDK client over real loopback HTTP reaches the MCP gateway whose runtime runs on a shared
// PostgreSQL database (fresh for this file; no server = failure, never a skip). Calls are decided
// and receipted on the database; a held call is approved through the database's one governance log
// and its sealed-handle retry runs once. Attacker first: the same call without its handle on
// another server on that database (which never saw the challenge) must not use the grant (I-MCP-3).
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeBody } from '@helm/evidencepack';
import {
  appendGovernanceEventAsync,
  approvalStatement,
  attachDatabase,
  DataDir,
  migrateDatabase,
  publishTrust,
  verifiedChallenge,
} from '@helm/runtime';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, REQUEST_STATE_META } from '../../../packages/mcp-gateway/src/index.ts';
import { fixtureConfig, gatewayHome } from '../../../packages/mcp-gateway/test/setup.ts';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { createApiKey, type HelmServer, startHelmServer } from '../src/index.ts';
import { tempRoot } from './helpers.ts';

const db = await createTestDatabase('serve_mcp');
const root = tempRoot('helm-serve-pg-mcp-');
const template = join(root, 'template');
const config = fixtureConfig(root);
const servers: HelmServer[] = [];
let key = '';
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  await db.drop();
});

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: { helm?: Record<string, unknown> } & Record<string, unknown>;
  isError?: boolean;
};

/** A node: a copy of the template directory with its own chain id and no helm.db. */
function nodeDir(name: string): string {
  const dir = join(root, name);
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: name });
  return dir;
}

async function connect(server: HelmServer): Promise<Client> {
  const c = new Client({ name: 'remote-agent', version: '1.0.0' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
  return c;
}

const call = (c: Client, name: string, args: object, meta?: Record<string, unknown>) =>
  c.callTool({
    name,
    arguments: args as Record<string, unknown>,
    ...(meta ? { _meta: meta } : {}),
  }) as Promise<Result>;

/** (tool, status) of a chain's receipts as the database holds them. */
async function chain(name: string): Promise<string[]> {
  const c = await raw(db.url);
  try {
    const r = await c.query('SELECT envelope FROM receipts WHERE chain_id = $1 ORDER BY lamport', [name]);
    return r.rows.map((row) => {
      const b = envelopeBody<{ tool: string; status: string }>(JSON.parse(row.envelope as string));
      return `${b.tool} ${b.status}`;
    });
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  gatewayHome(template);
  const t = new DataDir(template);
  await approveTools(t, config, ['fx__echo', 'fx__deploy']);
  t.close();
  await migrateDatabase({ url: db.url });
  const p = new DataDir(template);
  await publishTrust(p, { url: db.url });
  p.close();
  // An API key with no credential: the server binds it through the database's identity bindings.
  const d = new DataDir(nodeDir('keys-node'));
  await attachDatabase(d, { url: db.url });
  try {
    key = (await createApiKey(d, { principal: 'local', scopes: ['call'], credential: null })).key;
  } finally {
    await d.closeAll();
  }
}, 120_000);

describe('/mcp on helmts serve --mcp --database-url', { timeout: 60_000 }, () => {
  it('an SDK client: calls decided on the database; a held call approved there runs once by its handle, never without it on another node', async () => {
    const [a, b] = await Promise.all(
      ['mcp-a', 'mcp-b'].map((n) =>
        startHelmServer({
          dataDir: nodeDir(n),
          database: { url: db.url },
          rateLimit: { rate: 0 },
          mcp: { config },
        }),
      ),
    );
    servers.push(a as HelmServer, b as HelmServer);
    const ca = await connect(a as HelmServer);
    const cb = await connect(b as HelmServer);
    try {
      expect((await ca.listTools()).tools.map((t) => t.name).sort()).toEqual(['fx__deploy', 'fx__echo']);
      const ok = await call(ca, 'fx__echo', { text: 'on the database' });
      expect(ok.isError).toBeFalsy();
      expect(ok.structuredContent).toEqual({ echoed: 'on the database' });
      const held = await call(ca, 'fx__deploy', { service: 'pg' });
      const helm = held.structuredContent?.helm as Record<string, unknown>;
      expect(helm).toMatchObject({ status: 'ESCALATED', reason_code: 'APPROVAL_REQUIRED' });
      const id = helm.approval_challenge_id as string;
      // The approver's grant, appended to the database's one governance log.
      const d = new DataDir(nodeDir('approver'));
      await attachDatabase(d, { url: db.url });
      try {
        const signer = d.localKey('approver-1').signer;
        const c = verifiedChallenge(
          (await d.shared?.governanceChallenge(id)) as never,
          await d.registryAsync(),
        );
        await appendGovernanceEventAsync(d, {
          action: 'approval.grant',
          body: { challenge_id: id, statement: approvalStatement(c, signer, {}) as never },
          signer,
          at: Date.now(),
        });
      } finally {
        await d.closeAll();
      }
      // Attacker: the same call, no handle, on B (which never held it): refused, nothing runs.
      const bypass = await call(cb, 'fx__deploy', { service: 'pg' });
      expect(bypass.content[0]?.text).not.toBe('deployed pg');
      expect(bypass.structuredContent?.helm).toMatchObject({ reason_code: 'CHALLENGE_PENDING' });
      const handle = { [REQUEST_STATE_META]: helm[REQUEST_STATE_META] };
      const ran = await call(ca, 'fx__deploy', { service: 'pg' }, handle);
      expect(ran.isError, JSON.stringify(ran)).toBeFalsy();
      expect(ran.content[0]?.text).toBe('deployed pg');
      expect((await call(ca, 'fx__deploy', { service: 'pg' }, handle)).structuredContent?.helm).toMatchObject(
        { reason_code: 'CHALLENGE_CLOSED' },
      );
    } finally {
      await ca.close();
      await cb.close();
    }
    expect(await chain('mcp-a')).toEqual([
      'mcp.fx.echo SUCCEEDED',
      'mcp.fx.deploy ESCALATED',
      'mcp.fx.deploy SUCCEEDED',
    ]);
    expect((await chain('mcp-b')).filter((r) => r.endsWith('SUCCEEDED'))).toEqual([]);
    for (const n of ['mcp-a', 'mcp-b']) expect(existsSync(join(root, n, 'helm.db'))).toBe(false);
  });
});
