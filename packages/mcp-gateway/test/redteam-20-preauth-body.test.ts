// Red team (#20): the HTTP face (`helmts mcp serve --http`). Attacker: the MCP client "on the HTTP
// face, any request without ... a bearer token" (docs/threat-model.md, attackers). I-MCP-6 (added
// for this finding) names the face's resource bounds; this test names the gap it closed. http.ts nodeListener reads the WHOLE request body into memory (`for await (const c of
// req) chunks.push(c)`, no size limit) before gatewayHttpHandler checks the Authorization header.
// A client without any token can make the gateway buffer an unbounded body; it gets no 401 until
// it chooses to end the body.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { gatewayHttpHandler, nodeListener } from '../src/index.ts';

let server: Server | undefined;
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

it('I-MCP-6 an unauthenticated request is refused (401) without buffering its body', async () => {
  // The gateway is never reached by an unauthenticated request.
  const handler = gatewayHttpHandler({} as never, { bearerToken: 'client-token-0123456789' });
  server = createServer(nodeListener(handler));
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const status = await new Promise<number | 'no answer'>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mcp' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('no answer'));
    // 8 MiB sent, the body never ends: a gateway that checks the token first answers 401 now.
    req.write(Buffer.alloc(8 * 1024 * 1024, 0x61));
    setTimeout(() => {
      resolve('no answer');
      req.destroy();
    }, 3_000);
  });
  expect(status).toBe(401);
}, 30_000);
