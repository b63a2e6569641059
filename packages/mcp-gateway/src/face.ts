// The faces MCP clients reach the gateway by (docs/mcp-gateway.md §Faces). Each connection gets one
// low-level SDK `Server` that answers tools/list and tools/call from the gateway core, and
// resources, prompts and completion only where gateway.json passes them through to an upstream;
// nothing else is declared, so the rest is "method not found" (docs/mcp-gateway.md §Methods). serveStdio picks the protocol era from the opening
// exchange (2025-11-25 initialize, or 2026-07-28 discover) and serves both from the same factory.
import { inputRequired, ProtocolError, Server } from '@modelcontextprotocol/server';
import {
  type ServeStdioOptions,
  type StdioServerHandle,
  serveStdio,
} from '@modelcontextprotocol/server/stdio';
import { approvalPage } from './config.js';
import {
  type GatewayCaller,
  type GatewayCallResult,
  type GatewayProgress,
  type GatewaySession,
  type McpGateway,
  REQUEST_STATE_META,
  SESSION_META,
} from './gateway.js';

const CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
/** The key of the approval elicitation in an input-required result. */
export const APPROVAL_INPUT_KEY = 'helm-approval';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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
  /**
   * The approval page of a challenge (`helmts serve`: `/v1/approvals/{id}` on the server the
   * client reached). With it, a held call answers a client that declared URL elicitation with the
   * era's input-required result: a URL elicitation of that page, the sealed handle as its
   * `requestState`; the client's retry brings the handle back (docs/mcp-gateway.md §Calls).
   */
  readonly approvalUrl?: (challengeId: string) => string | undefined;
}

const VERSION = '0.1.0';

/** One MCP server instance over the gateway (for one connection). */
export function gatewayServer(gateway: McpGateway, options: GatewayServerOptions = {}): Server {
  options = options.approvalUrl
    ? options
    : { ...options, approvalUrl: (id: string) => approvalPage(gateway.config, id) };
  const connection = options.sessions === 'sealed' ? undefined : gateway.session(options.caller);
  const caller = connection?.caller ?? options.caller ?? gateway.session().caller;
  const server = new Server(
    { name: 'helm-mcp-gateway', version: VERSION },
    {
      // A pass-through family is declared only when some upstream allows it: otherwise the SDK
      // answers its methods "method not found", as before any configuration (default deny).
      // No subscribe, no listChanged: neither is relayed (docs/mcp-gateway.md §Methods).
      capabilities: {
        tools: { listChanged: true },
        ...(gateway.passThrough.offers('resources') ? { resources: {} } : {}),
        ...(gateway.passThrough.offers('prompts') ? { prompts: {} } : {}),
        ...(gateway.passThrough.offers('completion') ? { completions: {} } : {}),
      },
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
    // A retry after an approval elicitation brings the sealed handle back as its requestState (an
    // opaque string to the SDK; the gateway verifies it as attacker-controlled, I-MCP-3).
    const state = ctx.mcpReq.requestState();
    const meta =
      typeof state === 'string'
        ? { ...(isObject(p._meta) ? p._meta : {}), [REQUEST_STATE_META]: state }
        : p._meta;
    let result: GatewayCallResult;
    let sessionHandle: string | undefined;
    if (connection) result = await connection.callTool(p.name, p.arguments, meta, ctx.mcpReq.signal, relay);
    else {
      const opened = gateway.sealedSession(caller, isObject(p._meta) ? p._meta[SESSION_META] : undefined);
      sessionHandle = opened.handle;
      result = await opened.session.callTool(p.name, p.arguments, meta, ctx.mcpReq.signal, relay);
    }
    const elicit = approvalElicitation(result, options, server, ctx);
    if (elicit) return elicit as never;
    return (
      sessionHandle === undefined
        ? result
        : { ...result, _meta: { ...result._meta, [SESSION_META]: sessionHandle } }
    ) as never;
  });
  const pass = gateway.passThrough;
  // A list, a read resource, a got prompt, a completion — and an error instead of any of them —
  // taints the session like a tool result (I-MCP-9/12); on the stateless face the request names
  // its session as tools/call does, and gets the handle back (in the error's data for an error).
  const scanned = async (
    kind: 'resource' | 'prompt' | 'completion' | 'list',
    name: string,
    params: { _meta?: unknown },
    answer: () => Promise<Record<string, unknown>>,
  ): Promise<never> => {
    const opened = connection
      ? undefined
      : gateway.sealedSession(caller, isObject(params._meta) ? params._meta[SESSION_META] : undefined);
    const session = connection ?? (opened as { session: GatewaySession }).session;
    let result: Record<string, unknown>;
    try {
      result = await answer();
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // The relayed error text is the upstream's (bounded by the router): scanned like an answer.
      const data = isObject(error.data) ? error.data : {};
      gateway.scanPassThrough(session, 'error', name, { message: error.message, data });
      if (!opened) throw error;
      throw new ProtocolError(error.code, error.message, { ...data, [SESSION_META]: opened.handle });
    }
    const out = gateway.scanPassThrough(session, kind, name, result);
    if (!opened) return out as never;
    return {
      ...out,
      _meta: { ...(isObject(out._meta) ? out._meta : {}), [SESSION_META]: opened.handle },
    } as never;
  };
  if (pass.offers('resources')) {
    // A list relays the upstreams' names and descriptions: scanned as answers too.
    server.setRequestHandler('resources/list', (r) =>
      scanned('list', 'resources/list', r.params ?? {}, () => pass.list('resources/list')),
    );
    server.setRequestHandler('resources/templates/list', (r) =>
      scanned('list', 'resources/templates/list', r.params ?? {}, () =>
        pass.list('resources/templates/list'),
      ),
    );
    server.setRequestHandler('resources/read', (r) =>
      scanned('resource', r.params.uri, r.params, () => pass.readResource(r.params)),
    );
  }
  if (pass.offers('prompts')) {
    server.setRequestHandler('prompts/list', (r) =>
      scanned('list', 'prompts/list', r.params ?? {}, () => pass.list('prompts/list')),
    );
    server.setRequestHandler('prompts/get', (r) =>
      scanned('prompt', r.params.name, r.params, () => pass.getPrompt(r.params)),
    );
  }
  if (pass.offers('completion'))
    server.setRequestHandler('completion/complete', (r) => {
      const ref = r.params.ref as { name?: unknown; uri?: unknown };
      const name = typeof ref.name === 'string' ? ref.name : typeof ref.uri === 'string' ? ref.uri : '';
      return scanned('completion', name, r.params, () => pass.complete(r.params));
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

/**
 * The input-required answer of a held call (new, or retried while its challenge is still pending)
 * to a client that declared URL elicitation, when the face knows the approval page; else undefined
 * (the isError result with the challenge id stands).
 */
function approvalElicitation(
  result: GatewayCallResult,
  options: GatewayServerOptions,
  server: Server,
  ctx: { mcpReq: unknown },
): unknown {
  const helm = result.structuredContent?.helm;
  if (!options.approvalUrl || !isObject(helm)) return undefined;
  const held =
    helm.status === 'ESCALATED' || (helm.status === 'REFUSED' && helm.reason_code === 'CHALLENGE_PENDING');
  const id = helm.approval_challenge_id;
  const handle = helm[REQUEST_STATE_META];
  if (!held || typeof id !== 'string' || typeof handle !== 'string') return undefined;
  // The 2026-07-28 era declares capabilities per request (its _meta envelope); 2025 at initialize.
  const envelope = (ctx.mcpReq as { envelope?: Record<string, unknown> }).envelope;
  const caps = (envelope?.[CLIENT_CAPABILITIES] ?? server.getClientCapabilities()) as
    | { elicitation?: { url?: unknown } }
    | undefined;
  if (!isObject(caps?.elicitation?.url)) return undefined;
  const url = options.approvalUrl(id);
  if (url === undefined) return undefined;
  return inputRequired({
    inputRequests: {
      [APPROVAL_INPUT_KEY]: inputRequired.elicitUrl({
        message: `HELM holds this call for approval (challenge ${id}). An approver decides on the approval page; then continue.`,
        url,
      }),
    },
    requestState: handle,
  });
}

/** Serve the gateway on this process's stdio (or `options.transport`). */
export function serveGatewayStdio(gateway: McpGateway, options: ServeStdioOptions = {}): StdioServerHandle {
  // One connection, one session: its taint lasts as long as the connection.
  return serveStdio(() => gatewayServer(gateway), options);
}
