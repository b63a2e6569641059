// MCP tool descriptors as HELM pins them (docs/spec/mcp-gateway.md §Descriptor pin).
//
// The pin of an upstream tool is `sha256(JCS({type: "helm.mcp.tool.v1", upstream, tool}))` where
// `tool` is the descriptor exactly as the upstream advertises it, without `_meta` only: name,
// title, description, input and output schema, annotations, icons, execution — anything that can
// steer a model is pinned, so any change (a rug pull) is a changed pin. The approved HELM tool
// descriptor carries that pin in `driver.ref`, so every receipt's descriptor digest commits to it.
import { TOOL_DESCRIPTOR_TYPE, type ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import type { ToolClassification } from './config.js';

export const MCP_TOOL_PIN_TYPE = 'helm.mcp.tool.v1';
/** The driver kind of gateway tools (a host driver of @helm/runtime). */
export const MCP_DRIVER_KIND = 'mcp';

/** An upstream tool descriptor as advertised (the MCP `Tool` object). */
export type McpTool = Readonly<Record<string, unknown>> & { readonly name: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is pinned of an advertised tool: everything but `_meta`. */
export function pinnedPart(tool: McpTool): Record<string, unknown> {
  const { _meta, ...rest } = tool as Record<string, unknown>;
  return rest;
}

/** The pin (`sha256:<hex>`) of `upstream`'s tool as advertised. */
export function mcpToolPin(upstream: string, tool: McpTool): string {
  return digest(canonicalBytes({ type: MCP_TOOL_PIN_TYPE, upstream, tool: pinnedPart(tool) }));
}

const HELM_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/**
 * The HELM tool name of an upstream tool: `mcp.<upstream>.<tool>`; a tool name that is not already
 * a lowercase HELM name is folded and suffixed with 8 hex digits of its digest, so two names that
 * fold alike still get different HELM names.
 */
export function helmToolName(upstream: string, tool: string): string {
  const plain = `mcp.${upstream}.${tool}`;
  if (HELM_NAME.test(plain) && plain.length <= 100) return plain;
  const folded = tool
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .slice(0, 64);
  const tag = digest(new TextEncoder().encode(tool)).slice('sha256:'.length, 'sha256:'.length + 8);
  return `mcp.${upstream}.${folded}-${tag}`;
}

/** The `driver.ref` of a gateway tool: the upstream, the tool and the pin. */
export function mcpRef(upstream: string, tool: string, pin: string): string {
  return `mcp://${upstream}/${encodeURIComponent(tool)}#${pin}`;
}

/** The upstream, tool and pin of a gateway tool's `driver.ref` (undefined: not one). */
export function parseMcpRef(ref: string): { upstream: string; tool: string; pin: string } | undefined {
  const m = /^mcp:\/\/([a-z0-9][a-z0-9-]{0,31})\/([^#]+)#(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) return undefined;
  try {
    return { upstream: m[1] as string, tool: decodeURIComponent(m[2] as string), pin: m[3] as string };
  } catch {
    return undefined;
  }
}

/** Unclassified tools: the unknown effect class at HIGH risk (annotations never lower it). */
export const UNCLASSIFIED: ToolClassification = { effect_type: 'unknown', risk_tier: 'HIGH', action: 'call' };

/**
 * The driver output of a gateway tool is the MCP result's `{content, structuredContent?, isError?}`.
 * Its schema embeds the pinned outputSchema for `structuredContent`, required unless `isError`; a
 * result that does not match is contract drift (withheld, receipted ERR_CONNECTOR_CONTRACT_DRIFT).
 */
export function resultSchema(outputSchema: unknown): Record<string, unknown> {
  const structured = isObject(outputSchema) ? outputSchema : { type: 'object' };
  return {
    type: 'object',
    properties: {
      content: {
        type: 'array',
        items: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] },
      },
      structuredContent: structured,
      isError: { type: 'boolean' },
    },
    required: ['content'],
    additionalProperties: false,
    ...(isObject(outputSchema)
      ? {
          anyOf: [
            { properties: { structuredContent: structured }, required: ['structuredContent'] },
            { properties: { isError: { const: true } }, required: ['isError'] },
          ],
        }
      : {}),
  };
}

/** The HELM tool descriptor approving `upstream`'s tool as advertised now. */
export function helmDescriptor(
  upstream: string,
  tool: McpTool,
  classification: ToolClassification,
  timeoutMs: number,
): ToolDescriptor {
  const pin = mcpToolPin(upstream, tool);
  const input = isObject(tool.inputSchema) ? tool.inputSchema : { type: 'object' };
  return {
    type: TOOL_DESCRIPTOR_TYPE,
    name: helmToolName(upstream, tool.name),
    description: typeof tool.description === 'string' ? tool.description : '',
    input_schema: input as ToolDescriptor['input_schema'],
    output_schema: resultSchema(tool.outputSchema) as ToolDescriptor['output_schema'],
    effect_type: classification.effect_type,
    risk_tier: classification.risk_tier,
    action: classification.action,
    ...(classification.resource_pointer ? { resource_pointer: classification.resource_pointer } : {}),
    driver: { kind: MCP_DRIVER_KIND, ref: mcpRef(upstream, tool.name, pin), timeout_ms: timeoutMs },
  };
}
