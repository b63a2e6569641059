// `/mcp` on `helmts serve` (docs/mcp-gateway.md §Faces): the MCP gateway's Streamable HTTP face behind the
// server's own authentication. The gateway is attached to the server's runtime (one runtime per
// data directory serves the API and MCP), and every request is served for the authenticated
// identity — its principal, tenant and bound credential — never for anything the MCP client sends.
// The client's bearer token stays here: upstreams see only their own credentials (I-MCP-5).
import type { GatewayCaller, GatewayConfig, McpGateway } from '@helm/mcp-gateway';
import { type DataDir, GovernedRuntime } from '@helm/runtime';

/** The `/mcp` route's handler: one request for one authenticated caller. */
export type McpRoute = (request: Request, caller: GatewayCaller) => Promise<Response>;

export interface McpMount {
  readonly runtime: GovernedRuntime;
  readonly route: McpRoute;
  /** Ends the MCP face and the upstreams; the runtime stays open for the server to close. */
  close(): Promise<void>;
}

/**
 * Open the data directory's runtime with the gateway's `mcp` driver, connect the upstreams, and
 * build the route. The gateway module (the MCP SDK) loads only when the server serves MCP.
 */
export async function mountMcp(
  data: DataDir,
  config: GatewayConfig,
  now: () => number,
  maxRequestBodySize: number,
): Promise<McpMount> {
  const { McpGateway: Gateway, gatewayAuthenticatedHandler } = await import('@helm/mcp-gateway');
  const clock = { now };
  const gateway: McpGateway = await Gateway.attach(
    data,
    config,
    (drivers) => GovernedRuntime.open(data, { clock, drivers }),
    { clock },
  );
  const handler = gatewayAuthenticatedHandler(gateway, { maxRequestBodySize });
  return {
    runtime: gateway.runtime,
    route: handler.fetch,
    async close() {
      await handler.close();
      await gateway.close();
    },
  };
}
