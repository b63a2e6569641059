// Errors of the MCP gateway: a closed union of codes; the CLI maps them to exit codes and never
// matches on messages.
export type GatewayErrorCode =
  /** gateway.json is not a valid `helm.mcp.gateway.v1` document (the message names the member). */
  | 'MCP_CONFIG_INVALID'
  /** An upstream could not be started, connected or listed. */
  | 'MCP_UPSTREAM_UNAVAILABLE'
  /** `mcp tools approve` named a tool no upstream advertises. */
  | 'MCP_TOOL_UNKNOWN'
  /** Two upstream tools map to the same gateway or HELM name (refused rather than guessed). */
  | 'MCP_TOOL_NAME_COLLISION';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
