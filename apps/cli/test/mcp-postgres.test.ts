// I-MCP-10 `helmts mcp serve --database-url`: a real SDK client spawns the BUILT gateway on stdio
// whose runtime runs on a shared PostgreSQL database (fresh for this file; no server = failure,
// never a skip). Its calls are decided and receipted on the database under the node's chain, the
// credential comes from the database's identity bindings, and the data directory's helm.db is never
// opened. Before this, the command refused a database (DATABASE_RUNTIME_UNSUPPORTED, exit 2).
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, raw } from '../../../packages/store-postgres/test/harness.ts';
import { BIN, REPO, requireCurrentBuild, spawnHelmts } from './cli-process.ts';
import { tempRoot } from './helpers.ts';

const db = await createTestDatabase('cli_mcp');
afterAll(() => db.drop());
const root = tempRoot('helm-cli-mcp-pg-');
const template = join(root, 'template');
const FIXTURE = join(REPO, 'packages/mcp-gateway/test/fixtures/upstream.mjs');

beforeAll(() => requireCurrentBuild());

/** (tool, status, principal) of a chain's receipts as the database holds them. */
async function chain(name: string): Promise<string[]> {
  const c = await raw(db.url);
  try {
    const r = await c.query('SELECT envelope FROM receipts WHERE chain_id = $1 ORDER BY lamport', [name]);
    return r.rows.map((row) => {
      const e = JSON.parse(row.envelope as string) as { payload: string };
      const b = JSON.parse(Buffer.from(e.payload, 'base64url').toString('utf8')) as Record<string, string>;
      return `${b.principal} ${b.tool} ${b.status}`;
    });
  } finally {
    await c.end();
  }
}

describe('I-MCP-10 helmts mcp serve on a shared database', { timeout: 180_000 }, () => {
  it('an SDK client over stdio: allowed and denied calls decided and receipted on the database; no helm.db', async () => {
    const bundle = join(root, 'bundle.json');
    writeFileSync(
      bundle,
      JSON.stringify({
        type: 'helm.policy.bundle.v1',
        name: 'mcp',
        version: 2,
        rules: [
          { id: 'echo', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'mcp.fx.echo' } } },
        ],
      }),
    );
    const config = join(root, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        type: 'helm.mcp.gateway.v1',
        principal: 'local',
        upstreams: { fx: { transport: 'stdio', command: process.execPath, args: [FIXTURE] } },
        tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
      }),
    );
    const helm = (...args: string[]) => spawnHelmts(['--data-dir', template, ...args]);
    expect((await helm('init')).code).toBe(0);
    expect((await helm('policy', 'sign', bundle)).code).toBe(0);
    const approved = await helm('mcp', 'tools', 'approve', '--config', config, 'fx__echo', 'fx__write');
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect((await spawnHelmts(['db', 'migrate', '--database-url', db.url, '--json'])).code).toBe(0);
    const published = await helm('db', 'publish-trust', '--database-url', db.url, '--json');
    expect(published.code, published.stdout + published.stderr).toBe(0);
    // The node: a copy of the template with its own chain id and no embedded store.
    const node = join(root, 'mcp-node');
    cpSync(template, node, { recursive: true });
    rmSync(join(node, 'helm.db'), { force: true });
    const cfg = JSON.parse(readFileSync(join(node, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(node, 'config.json'), JSON.stringify({ ...cfg, chain_id: 'mcp-node' }));

    const client = new Client({ name: 'desktop', version: '1.0.0' }, {});
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, '--data-dir', node, '--database-url', db.url, 'mcp', 'serve', '--config', config],
        stderr: 'ignore',
      }),
    );
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['fx__echo']);
      const echo = await client.callTool({ name: 'fx__echo', arguments: { text: 'on pg' } });
      expect(echo.structuredContent).toEqual({ echoed: 'on pg' });
      const write = await client.callTool({ name: 'fx__write', arguments: { path: '/etc/passwd' } });
      expect(write.isError).toBe(true);
    } finally {
      await client.close();
    }
    expect(await chain('mcp-node')).toEqual(['local mcp.fx.echo SUCCEEDED', 'local mcp.fx.write DENIED']);
    expect(existsSync(join(node, 'helm.db'))).toBe(false);
  });
});
