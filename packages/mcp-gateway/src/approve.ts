// `helmts mcp tools approve` (docs/mcp-gateway.md §Approving tools): pin upstream tools as HELM tools.
// A first approval registers the tool (tools/<name>.json, the runtime opened and its lock held
// briefly, so it runs while no gateway serves the data directory); re-approving a changed
// descriptor is a `tool.repin` governance event signed by the data directory's policy key —
// appended without the runtime, so it works while `helmts mcp serve` runs, which applies it
// before its next decision and lists the tool again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { type DataDir, GovernedRuntime, repinTool } from '@helm/runtime';
import type { GatewayConfig } from './config.js';
import { helmDescriptor, MCP_DRIVER_KIND, type McpTool, UNCLASSIFIED } from './descriptor.js';
import { GatewayError } from './errors.js';
import { CONNECT_TIMEOUT_MS, Upstream } from './upstream.js';

export interface ApprovalOutcome {
  /** The client-facing name. */
  readonly name: string;
  readonly helm_name: string;
  readonly descriptor_digest: string;
  /** registered: first approval; repinned: a changed descriptor re-approved; unchanged: as approved. */
  readonly outcome: 'registered' | 'repinned' | 'unchanged';
}

const gatewayName = (config: GatewayConfig, upstream: string, tool: string): string =>
  config.prefix ? `${upstream}__${tool}` : tool;

/** Every tool the upstreams advertise now, by client-facing name, with its HELM descriptor. */
export async function advertisedTools(
  config: GatewayConfig,
  upstreams?: ReadonlyMap<string, Upstream>,
): Promise<Map<string, { upstream: string; tool: McpTool; descriptor: ToolDescriptor }>> {
  const connected = new Map(upstreams ?? []);
  const opened: Upstream[] = [];
  try {
    if (!upstreams)
      for (const [name, u] of Object.entries(config.upstreams)) {
        const c = await Upstream.connect(name, u, CONNECT_TIMEOUT_MS);
        opened.push(c);
        connected.set(name, c);
      }
    const out = new Map<string, { upstream: string; tool: McpTool; descriptor: ToolDescriptor }>();
    const helmNames = new Set<string>();
    for (const [upstream, u] of connected) {
      for (const tool of u.tools().values()) {
        const name = gatewayName(config, upstream, tool.name);
        const descriptor = helmDescriptor(
          upstream,
          tool,
          config.tools[name] ?? UNCLASSIFIED,
          config.call_timeout_ms,
        );
        if (helmNames.has(descriptor.name))
          throw new GatewayError('MCP_TOOL_NAME_COLLISION', `two tools map to HELM name ${descriptor.name}`);
        helmNames.add(descriptor.name);
        out.set(name, { upstream, tool, descriptor });
      }
    }
    return out;
  } finally {
    for (const c of opened) await c.close();
  }
}

/** Approve `names` (client-facing) as advertised now; `names` empty: every advertised tool. */
export async function approveTools(
  data: DataDir,
  config: GatewayConfig,
  names: readonly string[],
  upstreams?: ReadonlyMap<string, Upstream>,
): Promise<ApprovalOutcome[]> {
  data.requireInitialized();
  const advertised = await advertisedTools(config, upstreams);
  for (const n of names)
    if (!advertised.has(n))
      throw new GatewayError(
        'MCP_TOOL_UNKNOWN',
        `no upstream advertises ${n}`,
        '`helmts mcp tools list --config gateway.json` shows what the upstreams advertise',
      );
  const chosen = names.length === 0 ? [...advertised.keys()].sort() : [...names];
  const registered = new Map(data.toolDescriptors().map((d) => [String(d.name), d]));
  const outcomes: ApprovalOutcome[] = [];
  const fresh: ToolDescriptor[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'helm-mcp-approve-'));
  try {
    for (const name of chosen) {
      const { descriptor } = advertised.get(name) as { descriptor: ToolDescriptor };
      const d = digest(canonicalBytes(descriptor));
      const existing = registered.get(descriptor.name);
      if (existing === undefined) {
        fresh.push(descriptor);
        outcomes.push({ name, helm_name: descriptor.name, descriptor_digest: d, outcome: 'registered' });
        continue;
      }
      if (digest(canonicalBytes(existing)) === d) {
        outcomes.push({ name, helm_name: descriptor.name, descriptor_digest: d, outcome: 'unchanged' });
        continue;
      }
      const file = join(scratch, `${descriptor.name}.json`);
      writeFileSync(file, JSON.stringify(descriptor));
      await repinTool(data, file);
      outcomes.push({ name, helm_name: descriptor.name, descriptor_digest: d, outcome: 'repinned' });
    }
    if (fresh.length > 0) await registerFresh(data, fresh);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes;
}

/** First approvals: written and loaded exactly as every later open loads them. */
async function registerFresh(data: DataDir, descriptors: readonly ToolDescriptor[]): Promise<void> {
  // Registration runs no tool body: a driver that refuses to run stands in for the upstream.
  const refuse = () => {
    throw new Error('not connected (registration only)');
  };
  const rt = await GovernedRuntime.open(data, {
    clock: { now: () => Date.now() },
    drivers: { [MCP_DRIVER_KIND]: () => ({ kind: MCP_DRIVER_KIND, invoke: refuse }) },
  });
  const written: string[] = [];
  try {
    for (const d of descriptors) {
      written.push(data.writeTool(d as unknown as Record<string, unknown>));
      await rt.loadTool(d);
    }
  } catch (error) {
    for (const f of written) rmSync(f, { force: true });
    throw error;
  } finally {
    await rt.close();
  }
}
