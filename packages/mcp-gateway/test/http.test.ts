// I-MCP-5 (docs/threat-model.md §MCP gateway): the Streamable HTTP face and an HTTP upstream. The
// client's bearer token authenticates it to the gateway and is never forwarded (no token
// passthrough): the upstream sees only its own credential from gateway.json. Both protocol eras.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approveTools,
  bearerMatches,
  GatewayError,
  gatewayHttpHandler,
  McpGateway,
  nodeListener,
  parseGatewayConfig,
} from '../src/index.ts';
// @ts-expect-error -- a plain ES module fixture without types
import { create } from './fixtures/tools.mjs';
import { gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-http-');
const dir = join(root, 'home');
const upDir = join(root, 'upstream');
const CLIENT_TOKEN = 'client-token-0123456789';
const UPSTREAM_TOKEN = 'upstream-secret-abcdef';
const seen: string[] = [];
const servers: Server[] = [];
let gateway: McpGateway;
let data: DataDir;
let faceUrl: URL;

async function listen(handler: (r: Request) => Promise<Response>): Promise<string> {
  const server = createServer(nodeListener(handler));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

async function connect(mode: 'legacy' | 'auto', token = CLIENT_TOKEN): Promise<Client> {
  const c = new Client({ name: 'remote-agent', version: '1.0.0' }, { versionNegotiation: { mode } });
  await c.connect(
    new StreamableHTTPClientTransport(faceUrl, {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return c;
}

beforeAll(async () => {
  mkdirSync(upDir);
  const upstream = createMcpHandler(() => create(upDir));
  const upstreamUrl = await listen(async (request) => {
    seen.push(request.headers.get('authorization') ?? '');
    if (!bearerMatches(request.headers.get('authorization'), UPSTREAM_TOKEN))
      return new Response(null, { status: 401 });
    return upstream.fetch(request);
  });
  gatewayHome(dir, 'web');
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      prefix: false,
      upstreams: {
        web: { transport: 'http', url: upstreamUrl, headers: { Authorization: { env: 'UPSTREAM_TOKEN' } } },
      },
      call_timeout_ms: 5_000,
    },
    root,
    { UPSTREAM_TOKEN: `Bearer ${UPSTREAM_TOKEN}` },
  );
  data = new DataDir(dir);
  await approveTools(data, config, ['echo', 'write']);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  faceUrl = new URL(await listen(gatewayHttpHandler(gateway, { bearerToken: CLIENT_TOKEN })));
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) await new Promise((r) => s.close(r));
  await gateway?.close();
  data?.close();
});

describe('I-MCP-5 Streamable HTTP face and upstream', { timeout: 60_000 }, () => {
  it('refuses a client without the bearer token', async () => {
    await expect(connect('legacy', 'wrong-token-0123456789')).rejects.toThrow();
    expect(() => gatewayHttpHandler(gateway, { bearerToken: 'short' })).toThrow(RangeError);
  });

  for (const mode of ['legacy', 'auto'] as const)
    it(`${mode}: governed calls reach the upstream with its own credential only`, async () => {
      const client = await connect(mode);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe(mode === 'legacy' ? '2025-11-25' : '2026-07-28');
        // No prefix with a single upstream: the upstream's own names. `write` is approved but no
        // rule allows it for this principal: not offered (I-MCP-7).
        expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo']);
        const r = await client.callTool({ name: 'echo', arguments: { text: mode } });
        expect(r.structuredContent).toEqual({ echoed: mode });
        const denied = await client.callTool({ name: 'write', arguments: { path: '/x' } });
        expect(denied.isError).toBe(true);
      } finally {
        await client.close();
      }
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);
      expect(seen.some((h) => h.includes(CLIENT_TOKEN))).toBe(false);
    });

  it('an unreachable upstream is a typed error at approval', async () => {
    const config = parseGatewayConfig(
      {
        type: 'helm.mcp.gateway.v1',
        upstreams: { gone: { transport: 'http', url: 'http://127.0.0.1:1/mcp' } },
      },
      root,
    );
    const other = new DataDir(join(root, 'other'));
    gatewayHome(join(root, 'other'));
    await expect(approveTools(other, config, [])).rejects.toSatisfy(
      (e) => e instanceof GatewayError && e.code === 'MCP_UPSTREAM_UNAVAILABLE',
    );
    other.close();
  });
});
