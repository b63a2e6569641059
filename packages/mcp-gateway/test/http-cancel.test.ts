// Cancellation on the Streamable HTTP face (issue #20 §Governance: "client disconnect on HTTP"):
// a client that drops its request mid-call has the call cancelled upstream (the SDK sends
// notifications/cancelled to the upstream), and the governed call still ends with its receipt —
// the outcome is recorded, since the upstream may have acted before it stopped.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, gatewayHttpHandler, McpGateway, nodeListener } from '../src/index.ts';
import { fixtureConfig, gatewayHome, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-http-cancel-');
const dir = join(root, 'home');
// A call timeout far beyond the test's wait: only the disconnect can cancel the call in time.
const config = fixtureConfig(root, { call_timeout_ms: 120_000 });
const TOKEN = 'cancel-client-token-0123456789';
let gateway: McpGateway;
let data: DataDir;
let server: Server;
let url: string;

const calls = () => {
  const log = join(root, 'calls.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
};

/** One JSON-RPC POST to the face (2025-11-25, stateless), abortable. */
const post = (body: unknown, signal?: AbortSignal) =>
  fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  await approveTools(data, config, ['fx__hang']);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  server = createServer(nodeListener(gatewayHttpHandler(gateway, { bearerToken: TOKEN })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await gateway?.close();
  data?.close();
});

describe('HTTP face: a client disconnect cancels the call upstream; the call is receipted', {
  timeout: 60_000,
}, () => {
  it('the dropped request reaches the upstream as a cancellation and ends in a FAILED receipt', async () => {
    const controller = new AbortController();
    const pending = post(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fx__hang', arguments: {} } },
      controller.signal,
    ).then(async (r) => {
      // The answer is an SSE stream held open while the call runs: read until the abort.
      await r.text();
    });
    for (let i = 0; i < 100 && !calls().some((c) => c.startsWith('hang ')); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(calls().some((c) => c.startsWith('hang '))).toBe(true);
    controller.abort();
    await expect(pending).rejects.toThrow();
    for (let i = 0; i < 200 && !calls().includes('hang cancelled'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(calls()).toContain('hang cancelled');
    for (let i = 0; i < 100 && receipts(dir).at(-1)?.tool !== 'mcp.fx.hang'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(receipts(dir).at(-1)).toMatchObject({ tool: 'mcp.fx.hang', status: 'FAILED' });
  });
});
