// The Streamable HTTP face (docs/mcp-gateway.md §Faces): the SDK's web-standard handler (both protocol
// eras; 2025-era traffic served statelessly). Standalone, behind a bearer-token check for the
// gateway's configured principal (gatewayHttpHandler, bridged to node:http by nodeListener); on
// `helmts serve`, behind the server's authentication, for the authenticated principal
// (gatewayAuthenticatedHandler). A client's token authenticates it to the gateway or the server
// only: it is never forwarded upstream (each upstream has its own credentials in gateway.json).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { gatewayServer } from './face.js';
import type { GatewayCaller, McpGateway } from './gateway.js';

/** A fetch-shaped handler (Request -> Response). */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Default cap of one request body (bytes): far above any MCP request a client needs to send. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default time a request body has to arrive in full (ms). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export interface NodeListenerOptions {
  /** A body longer than this (UTF-8 bytes on the wire) is answered 413 and the connection closed. */
  readonly maxBodyBytes?: number;
  /** A body not received in full within this is answered 408 and the connection closed. */
  readonly bodyTimeoutMs?: number;
}

type BodyFault = 413 | 408;

/**
 * A node:http request listener serving `handler`. The request body is streamed to the handler,
 * never read ahead: a handler that answers from the headers (the bearer check) answers before a
 * byte of the body is read (I-MCP-6). The body is capped (`maxBodyBytes`, 413) and must arrive
 * within `bodyTimeoutMs` (408); after either, or after an answer that left the body unread, the
 * connection is closed rather than drained.
 */
export function nodeListener(
  handler: FetchHandler,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  return (req, res) => {
    let fault: BodyFault | undefined;
    let ended = req.readableEnded;
    req.once('end', () => {
      ended = true;
    });
    const refuse = (status: BodyFault): void => {
      res.once('finish', () => req.destroy());
      if (!res.headersSent) res.writeHead(status, { connection: 'close' });
      res.end();
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > maxBytes) return refuse(413);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let timer: NodeJS.Timeout | undefined;
    const controller = new AbortController();
    res.on('close', () => {
      clearTimeout(timer);
      controller.abort();
    });
    let body: ReadableStream<Uint8Array> | undefined;
    if (hasBody) {
      timer = setTimeout(() => {
        if (ended) return;
        fault = 408;
        refuse(408);
      }, timeoutMs);
      timer.unref();
      const chunks = req[Symbol.asyncIterator]();
      let received = 0;
      body = new ReadableStream<Uint8Array>({
        async pull(stream) {
          try {
            const next = await chunks.next();
            if (next.done) {
              clearTimeout(timer);
              return stream.close();
            }
            const chunk = next.value as Buffer;
            received += chunk.byteLength;
            if (received > maxBytes) {
              fault = 413;
              return stream.error(new RangeError('request body too large'));
            }
            stream.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          } catch (error) {
            stream.error(error);
          }
        },
        cancel() {
          req.destroy();
        },
      });
    }
    void (async () => {
      const headers = new Headers();
      // node:http joins repeated headers into one string, except set-cookie (never sent to us).
      for (const [k, v] of Object.entries(req.headers)) headers.set(k, String(v));
      const response = await handler(
        new Request(`http://${req.headers.host}${req.url}`, {
          method: req.method as string,
          headers,
          ...(body ? { body, duplex: 'half' } : {}),
          signal: controller.signal,
        } as RequestInit),
      );
      if (fault !== undefined) return refuse(fault);
      const unread = hasBody && !ended;
      res.writeHead(response.status, {
        ...Object.fromEntries(response.headers.entries()),
        ...(unread ? { connection: 'close' } : {}),
      });
      // An answer given before the body was read (401): the rest is not drained, the socket closes.
      if (unread) res.once('finish', () => req.destroy());
      if (response.body)
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      res.end();
    })().catch(() => {
      if (fault !== undefined) return refuse(fault);
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
  // Stateless serving: each request names its gateway session by its sealed handle.
  const mcp = createMcpHandler(() => gatewayServer(gateway, { sessions: 'sealed' }));
  return async (request) => {
    if (!bearerMatches(request.headers.get('authorization'), options.bearerToken))
      return new Response(JSON.stringify({ error: 'unauthorized' }), {
        status: 401,
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
      });
    return mcp.fetch(request);
  };
}

/** A fetch-shaped handler that serves one request for a caller its host authenticated. */
export type AuthenticatedHandler = (request: Request, caller: GatewayCaller) => Promise<Response>;

const CALLER = 'helm.dev/caller';

/**
 * The gateway's MCP face (both eras) for a host that authenticates its clients itself (`helmts
 * serve` mounts it at `/mcp` behind its API keys / OIDC). Each request is served for the caller
 * the host passes — the authenticated identity's principal, tenant and bound credential — never
 * for anything in the MCP traffic; the client's token stays with the host (no passthrough). A
 * request reaching the factory without a caller is refused (no default principal).
 */
export function gatewayAuthenticatedHandler(
  gateway: McpGateway,
  options: { readonly maxRequestBodySize?: number } = {},
): { readonly fetch: AuthenticatedHandler; close(): Promise<void> } {
  const mcp = createMcpHandler(
    (ctx) => {
      const caller = ctx.authInfo?.extra?.[CALLER] as GatewayCaller | undefined;
      if (!caller || typeof caller.principal !== 'string') throw new Error('no authenticated caller');
      // The approval page on the server this client reached (helmts serve serves it).
      const base = ctx.requestInfo?.url;
      return gatewayServer(gateway, {
        sessions: 'sealed',
        caller,
        ...(base
          ? { approvalUrl: (id: string) => new URL(`/v1/approvals/${encodeURIComponent(id)}`, base).href }
          : {}),
      });
    },
    options.maxRequestBodySize === undefined ? {} : { maxRequestBodySize: options.maxRequestBodySize },
  );
  return {
    fetch: (request, caller) =>
      mcp.fetch(request, {
        authInfo: { token: '', clientId: caller.principal, scopes: [], extra: { [CALLER]: caller } },
      }),
    close: () => mcp.close(),
  };
}
