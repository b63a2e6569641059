// `/mcp` on `helmts serve` (I-MCP-10, docs/mcp-gateway.md §Faces): a real SDK client over real loopback HTTP
// reaches the MCP gateway behind the server's own authentication. Attackers first: no token, a
// token without the `call` scope, a key of another principal (whose calls are that principal's,
// whatever the MCP traffic says). Then allowed, denied and escalated calls on the server's one
// runtime: their receipts are on the server's chain and its EvidencePack verifies.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeBody } from '@helm/evidencepack';
import { DataDir } from '@helm/runtime';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, REQUEST_STATE_META } from '../../../packages/mcp-gateway/src/index.ts';
import { approveChallenge, fixtureConfig, gatewayHome } from '../../../packages/mcp-gateway/test/setup.ts';
import { createApiKey, type HelmServer, startHelmServer } from '../src/index.ts';
import { bearer, tempRoot } from './helpers.ts';

const root = tempRoot('helm-serve-mcp-');
const dir = join(root, 'home');
const config = fixtureConfig(root);
const ISSUER = 'https://idp.example';
const AUDIENCE = 'helm-api';
const idp = generateKeyPairSync('ed25519');
let server: HelmServer;
let mcpUrl: URL;
let keys: Record<'call' | 'approve' | 'audit' | 'mallory', string>;

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: { helm?: Record<string, unknown> } & Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
};

async function connect(token: string, mode: 'legacy' | 'auto' = 'legacy'): Promise<Client> {
  const c = new Client({ name: 'remote-agent', version: '1.0.0' }, { versionNegotiation: { mode } });
  await c.connect(
    new StreamableHTTPClientTransport(mcpUrl, {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return c;
}

const call = (c: Client, name: string, args: object = {}, meta?: Record<string, unknown>) =>
  c.callTool({
    name,
    arguments: args as Record<string, unknown>,
    ...(meta ? { _meta: meta } : {}),
  }) as Promise<Result>;

/** Receipts of the server's chain: (principal, tool, status), from the store. */
function chain(): { principal: string; tool: string; status: string }[] {
  const data = new DataDir(dir);
  try {
    return data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map((r) => envelopeBody<{ principal: string; tool: string; status: string }>(r.envelope));
  } finally {
    data.close();
  }
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
});

beforeAll(async () => {
  gatewayHome(dir);
  const data = new DataDir(dir);
  await approveTools(data, config, ['fx__echo', 'fx__deploy', 'fx__write']);
  const mk = async (principal: string, scopes: string[]) =>
    (await createApiKey(data, { principal, scopes })).key;
  keys = {
    call: await mk('local', ['call']),
    approve: await mk('local', ['approve']),
    audit: await mk('local', ['audit']),
    mallory: await mk('mallory', ['call']),
  };
  data.close();
  const jwks = join(root, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'EdDSA' }] }),
  );
  server = await startHelmServer({
    dataDir: dir,
    rateLimit: { rate: 0 },
    oidc: { jwks, issuer: ISSUER, audience: AUDIENCE },
    mcp: { config },
  });
  mcpUrl = new URL(`${server.url}/mcp`);
}, 120_000);

afterAll(() => server?.close());

describe('I-MCP-10 /mcp on helmts serve', { timeout: 60_000 }, () => {
  it('no or a bad token: 401 before anything is served; a key without the call scope: 403', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: initialize,
      });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await post(bearer('helm_000000000000_forged'))).status).toBe(401);
    expect((await post(bearer(keys.approve))).status).toBe(403);
    expect((await post(bearer(keys.audit))).status).toBe(403);
    await expect(connect('helm_000000000000_forged')).rejects.toThrow();
    // The key that may call gets MCP.
    expect((await post(bearer(keys.call))).status).toBe(200);
  });

  for (const mode of ['legacy', 'auto'] as const)
    it(`${mode}: allowed, denied and escalated calls for the authenticated principal; the retry consumes the grant`, async () => {
      const c = await connect(keys.call, mode);
      try {
        // fx__write is approved, but no rule allows it for `local`: not offered (I-MCP-7).
        expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['fx__deploy', 'fx__echo']);
        const ok = await call(c, 'fx__echo', { text: `hi ${mode}` });
        expect(ok.isError).toBeFalsy();
        expect(ok.structuredContent).toEqual({ echoed: `hi ${mode}` });
        const denied = await call(c, 'fx__write', { path: '/etc/hosts' });
        expect(denied.structuredContent?.helm).toMatchObject({ status: 'DENIED' });
        const held = await call(c, 'fx__deploy', { service: mode });
        const helm = held.structuredContent?.helm as Record<string, unknown>;
        expect(helm).toMatchObject({ status: 'ESCALATED', reason_code: 'APPROVAL_REQUIRED' });
        // Approved from another process while the server runs (an administrative write).
        approveChallenge(dir, helm.approval_challenge_id as string);
        const handle = { [REQUEST_STATE_META]: helm[REQUEST_STATE_META] };
        const ran = await call(c, 'fx__deploy', { service: mode }, handle);
        expect(ran.isError).toBeFalsy();
        expect(ran.content[0]?.text).toBe(`deployed ${mode}`);
        // The single-use grant is spent.
        expect(
          (await call(c, 'fx__deploy', { service: mode }, handle)).structuredContent?.helm,
        ).toMatchObject({
          reason_code: 'CHALLENGE_CLOSED',
        });
      } finally {
        await c.close();
      }
    });

  it('a client that declared URL elicitation is sent to the approval page; after the approval its retry runs the call', async () => {
    const c = new Client(
      { name: 'elicit-agent', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { url: {} } } },
    );
    const seen: { url: string; message: string }[] = [];
    c.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url: string; message: string };
      expect(params.mode).toBe('url');
      seen.push({ url: params.url, message: params.message });
      // The human opens the page, sees the held call, and an approver approves it.
      const page = await fetch(params.url, {
        headers: { ...bearer(keys.approve), accept: 'application/json' },
      });
      expect(page.status).toBe(200);
      const id = decodeURIComponent(new URL(params.url).pathname.split('/').at(-1) as string);
      if (seen.length === 2) approveChallenge(dir, id);
      return { action: 'accept' };
    });
    await c.connect(
      new StreamableHTTPClientTransport(mcpUrl, {
        requestInit: { headers: { Authorization: `Bearer ${keys.call}` } },
      }),
    );
    try {
      // Round 1 holds the call; round 2 (still pending) asks again; round 3 runs it.
      const r = await call(c, 'fx__deploy', { service: 'elicited' });
      expect(r.isError).toBeFalsy();
      expect(r.content[0]?.text).toBe('deployed elicited');
      expect(seen).toHaveLength(2);
      expect(seen[0]?.url).toMatch(new RegExp(`^${server.url}/v1/approvals/sha256%3A[0-9a-f]{64}$`));
      expect(seen[1]?.url).toBe(seen[0]?.url);
      const held = chain()
        .filter((x) => x.tool === 'mcp.fx.deploy')
        .slice(-2);
      expect(held.map((x) => x.status)).toEqual(['ESCALATED', 'SUCCEEDED']);
    } finally {
      await c.close();
    }
  });

  it("another principal's key acts as that principal, whatever the MCP traffic names", async () => {
    const c = await connect(keys.mallory);
    try {
      expect((await c.listTools()).tools).toEqual([]);
      const r = await call(
        c,
        'fx__echo',
        { text: 'x' },
        { principal: 'local', 'helm.dev/principal': 'local' },
      );
      expect(r.structuredContent?.helm).toMatchObject({ status: 'DENIED' });
      expect(chain().at(-1)).toMatchObject({ principal: 'mallory', tool: 'mcp.fx.echo', status: 'DENIED' });
    } finally {
      await c.close();
    }
  });

  it('an OIDC identity: its subject is the principal', async () => {
    const token = await new SignJWT({ scope: 'call' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('local')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(idp.privateKey);
    const c = await connect(token);
    try {
      expect((await call(c, 'fx__echo', { text: 'oidc' })).structuredContent).toEqual({ echoed: 'oidc' });
      expect(chain().at(-1)).toMatchObject({ principal: 'local', tool: 'mcp.fx.echo', status: 'SUCCEEDED' });
    } finally {
      await c.close();
    }
  });

  it("every MCP call is on the server's one chain, next to API calls, and the pack verifies", async () => {
    const api = await fetch(`${server.url}/v1/calls`, {
      method: 'POST',
      headers: { ...bearer(keys.call), 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'mcp.fx.echo', args: { text: 'via api' } }),
    });
    expect(await api.json()).toMatchObject({ status: 'SUCCEEDED' });
    const statuses = chain().map((r) => `${r.principal} ${r.tool} ${r.status}`);
    expect(statuses).toContain('local mcp.fx.deploy ESCALATED');
    expect(statuses).toContain('local mcp.fx.deploy SUCCEEDED');
    expect(statuses).toContain('local mcp.fx.write DENIED');
    const pack = await fetch(`${server.url}/v1/evidencepack`, { headers: bearer(keys.audit) });
    const bytes = new Uint8Array(await pack.arrayBuffer());
    const data = new DataDir(dir);
    const anchor = data.config().trust_anchor;
    data.close();
    const verified = await fetch(`${server.url}/v1/evidencepack/verify?trust_anchor=${anchor}`, {
      method: 'POST',
      headers: bearer(keys.audit),
      body: bytes,
    });
    expect(await verified.json()).toMatchObject({ report: { status: 'PASS' } });
  });
});
