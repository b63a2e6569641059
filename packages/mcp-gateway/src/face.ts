// The faces MCP clients reach the gateway by (docs/mcp.md §Faces). Each connection gets one
// low-level SDK `Server` that answers exactly tools/list and tools/call from the gateway core; no
// other capability is declared, so resources, prompts, completion, subscriptions and the rest are
// "method not found" (docs/mcp.md §Methods). serveStdio picks the protocol era from the opening
// exchange (2025-11-25 initialize, or 2026-07-28 discover) and serves both from the same factory.
import { Server } from '@modelcontextprotocol/server';
import {
  type ServeStdioOptions,
  type StdioServerHandle,
  serveStdio,
} from '@modelcontextprotocol/server/stdio';
import {
  type GatewayCaller,
  type GatewayCallResult,
  type GatewayProgress,
  type McpGateway,
  SESSION_META,
} from './gateway.js';

/** How a face's server instance finds its gateway session. */
export interface GatewayServerOptions {
  /** Who the calls are made for (default: the configured principal and credential). */
  readonly caller?: GatewayCaller;
  /**
   * `connection` (stdio): the instance serves one connection, which is one session. `sealed`
   * (stateless HTTP): each request names its session by the sealed handle in `_meta`
   * (SESSION_META) that every tools/call result hands back.
   */
  readonly sessions?: 'connection' | 'sealed';
}

const VERSION = '0.1.0';

/** One MCP server instance over the gateway (for one connection). */
export function gatewayServer(gateway: McpGateway, options: GatewayServerOptions = {}): Server {
  const connection = options.sessions === 'sealed' ? undefined : gateway.session(options.caller);
  const caller = connection?.caller ?? options.caller ?? gateway.session().caller;
  const server = new Server(
    { name: 'helm-mcp-gateway', version: VERSION },
    {
      capabilities: { tools: { listChanged: true } },
      instructions:
        'Every tool call goes through HELM: a denied or held call returns isError with the reason code in structuredContent.helm.',
    },
  );
  server.setRequestHandler('tools/list', async () => ({
    tools: (await gateway.listTools(connection ?? gateway.session(caller))) as never,
  }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const p = request.params;
    // Progress is relayed only to a client that asked for it, under its own token.
    const token = (ctx.mcpReq._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const relay =
      typeof token === 'string' || typeof token === 'number'
        ? (progress: GatewayProgress) => {
            ctx.mcpReq
              .notify({ method: 'notifications/progress', params: { progressToken: token, ...progress } })
              .catch(() => undefined);
          }
        : undefined;
    if (connection)
      return (await connection.callTool(p.name, p.arguments, p._meta, ctx.mcpReq.signal, relay)) as never;
    const { session, handle } = gateway.sealedSession(
      caller,
      (p._meta as Record<string, unknown> | undefined)?.[SESSION_META],
    );
    const result: GatewayCallResult = await session.callTool(
      p.name,
      p.arguments,
      p._meta,
      ctx.mcpReq.signal,
      relay,
    );
    return { ...result, _meta: { ...result._meta, [SESSION_META]: handle } } as never;
  });
  const stop = gateway.onListChanged(() => {
    server.sendToolListChanged().catch(() => undefined);
  });
  const previous = server.onclose;
  server.onclose = () => {
    stop();
    previous?.();
  };
  return server;
}

/** Serve the gateway on this process's stdio (or `options.transport`). */
export function serveGatewayStdio(gateway: McpGateway, options: ServeStdioOptions = {}): StdioServerHandle {
  // One connection, one session: its taint lasts as long as the connection.
  return serveStdio(() => gatewayServer(gateway), options);
}
