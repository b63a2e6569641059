// The Streamable HTTP face (docs/mcp.md §Faces): the SDK's web-standard handler (both protocol
// eras; 2025-era traffic served statelessly) behind a bearer-token check, bridged to node:http.
// The token authenticates the client to the gateway only: it is never forwarded upstream (each
// upstream has its own credentials in gateway.json). The check is a stand-in until the gateway
// mounts on `helmts serve`'s authentication (apps/server); the principal is the gateway's.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { gatewayServer } from './face.js';
import type { McpGateway } from './gateway.js';

/** A fetch-shaped handler (Request -> Response). */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A node:http request listener serving `handler` (the body is streamed both ways). */
export function nodeListener(handler: FetchHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = new Headers();
      // node:http joins repeated headers into one string, except set-cookie (never sent to us).
      for (const [k, v] of Object.entries(req.headers)) headers.set(k, String(v));
      const controller = new AbortController();
      res.on('close', () => controller.abort());
      const body =
        chunks.length > 0 && req.method !== 'GET' && req.method !== 'HEAD'
          ? Buffer.concat(chunks)
          : undefined;
      const response = await handler(
        new Request(`http://${req.headers.host}${req.url}`, {
          method: req.method as string,
          headers,
          ...(body ? { body } : {}),
          signal: controller.signal,
        }),
      );
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      if (!response.body) return void res.end();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      res.end();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}

/** True when `header` is exactly `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | null, token: string): boolean {
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The gateway's HTTP face: 401 without the bearer token; MCP (both eras) with it. */
export function gatewayHttpHandler(gateway: McpGateway, options: { bearerToken: string }): FetchHandler {
  if (options.bearerToken.length < 16)
    throw new RangeError('the bearer token must have at least 16 characters');
  const mcp = createMcpHandler(() => gatewayServer(gateway));
  return async (request) => {
    if (!bearerMatches(request.headers.get('authorization'), options.bearerToken))
      return new Response(JSON.stringify({ error: 'unauthorized' }), {
        status: 401,
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
      });
    return mcp.fetch(request);
  };
}
