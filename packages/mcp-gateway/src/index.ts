// @helm/mcp-gateway — a fail-closed MCP gateway: every tools/call of an MCP client is a governed
// call of @helm/runtime (guardian, schema PEP on the pinned schema, signed receipt) before it
// reaches a pinned upstream tool (docs/mcp-gateway.md).
export { type ApprovalOutcome, advertisedTools, approveTools } from './approve.js';
export {
  GATEWAY_CONFIG_TYPE,
  type GatewayConfig,
  type HttpUpstreamConfig,
  PASS_THROUGH,
  type PassThrough,
  parseGatewayConfig,
  type StdioUpstreamConfig,
  type ToolClassification,
  type UpstreamConfig,
} from './config.js';
export { helmToolName, MCP_TOOL_PIN_TYPE, type McpTool, mcpToolPin } from './descriptor.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export { APPROVAL_INPUT_KEY, type GatewayServerOptions, gatewayServer, serveGatewayStdio } from './face.js';
export {
  type GatewayCaller,
  type GatewayCallResult,
  type GatewayOptions,
  type GatewayProgress,
  type GatewayRefusal,
  GatewaySession,
  McpGateway,
  PROGRESS_MAX_MESSAGE,
  PROGRESS_MIN_INTERVAL_MS,
  REQUEST_STATE_META,
  SESSION_META,
  SESSION_TTL_MS,
} from './gateway.js';
export {
  type AuthenticatedHandler,
  bearerMatches,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  type FetchHandler,
  gatewayAuthenticatedHandler,
  gatewayHttpHandler,
  type NodeListenerOptions,
  nodeListener,
} from './http.js';
export {
  type PassThroughCounts,
  type PassThroughRefusal,
  PassThroughRouter,
  UNTRUSTED_META,
  UPSTREAM_ERROR_CHARS,
} from './passthrough.js';
export { SEALED_STATE_TYPE, type SealedState, type SealRefusal, seal, unseal } from './seal.js';
export {
  DEFAULT_MAX_TAINTED_CHARS,
  DEFAULT_MAX_TAINTED_SESSIONS,
  DEFAULT_MAX_TAINTED_SESSIONS_PER_PRINCIPAL,
  SESSION_OVERHEAD_CHARS,
  type SessionLimits,
} from './sessions.js';
export { TAINT_EXCERPT_CHARS, TAINT_SOURCE_CHARS, type TaintFinding } from './taint.js';
export { type PassThroughMethod, Upstream } from './upstream.js';
