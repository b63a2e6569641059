// One upstream MCP server, connected with the v2 SDK client. The gateway is this server's only
// client: it declares no client capabilities, so an upstream's own requests (sampling, elicitation,
// roots) are answered "method not found" by the SDK and never reach the user's client.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { UpstreamConfig } from './config.js';
import type { McpTool } from './descriptor.js';
import { GatewayError } from './errors.js';

const VERSION = '0.1.0';

/** The client→server methods the gateway may pass through to an upstream. */
export type PassThroughMethod =
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read'
  | 'prompts/list'
  | 'prompts/get'
  | 'completion/complete';

/** Starting, connecting and listing an upstream (a child process may start slowly on a busy host). */
export const CONNECT_TIMEOUT_MS = 30_000;

export class Upstream {
  readonly #client: Client;
  #tools = new Map<string, McpTool>();
  /** Called after every re-fetch that followed `notifications/tools/list_changed`. */
  onToolsChanged: (() => void) | undefined;

  private constructor(
    readonly name: string,
    client: Client,
  ) {
    this.#client = client;
  }

  /** Start (stdio: spawn with a minimal environment and working directory) and connect. */
  static async connect(name: string, config: UpstreamConfig, timeoutMs: number): Promise<Upstream> {
    let upstream: Upstream | undefined;
    const client = new Client(
      { name: 'helm-mcp-gateway', version: VERSION },
      {
        capabilities: {},
        // Both protocol eras upstream too: 2026-07-28 when the upstream speaks it, else 2025-11-25.
        versionNegotiation: { mode: 'auto' },
        listChanged: {
          tools: {
            // The SDK re-fetches on list_changed; the gateway re-derives every pin from that list.
            onChanged: (error, tools) => {
              // A failed re-fetch keeps the last list: the pin check still compares against it.
              if (error) return;
              (upstream as Upstream).#setTools(tools as unknown as McpTool[]);
              (upstream as Upstream).onToolsChanged?.();
            },
          },
        },
      },
    );
    upstream = new Upstream(name, client);
    const transport =
      config.transport === 'stdio'
        ? new StdioClientTransport({
            command: config.command,
            args: [...config.args],
            cwd: config.cwd,
            // Minimal environment: PATH to find the command, then only what gateway.json names.
            env: { PATH: process.env.PATH ?? '', ...config.env },
            stderr: 'inherit',
          })
        : new StreamableHTTPClientTransport(new URL(config.url), {
            // This upstream's own credentials; the client's token is never forwarded.
            requestInit: { headers: { ...config.headers } },
            redirectPolicy: 'same-origin',
          });
    try {
      await client.connect(transport, { timeout: timeoutMs });
      await upstream.refresh(timeoutMs);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new GatewayError(
        'MCP_UPSTREAM_UNAVAILABLE',
        `upstream ${name}: ${(error as Error)?.message ?? String(error)}`,
        config.transport === 'stdio'
          ? 'check its command, args and cwd in gateway.json (it runs with PATH and the env members only)'
          : 'check its url and headers in gateway.json',
      );
    }
    return upstream;
  }

  #setTools(tools: readonly McpTool[]): void {
    const next = new Map<string, McpTool>();
    const duplicated = new Set<string>();
    for (const t of tools) {
      if (typeof t?.name !== 'string') continue;
      if (next.has(t.name)) duplicated.add(t.name);
      next.set(t.name, t);
    }
    // A name advertised twice has no single descriptor to pin: neither is offered.
    for (const d of duplicated) next.delete(d);
    this.#tools = next;
  }

  /** Fetch the tool list again (every page), bypassing any cache. */
  async refresh(timeoutMs: number): Promise<void> {
    const r = await this.#client.listTools(undefined, { timeout: timeoutMs, cacheMode: 'bypass' });
    this.#setTools(r.tools as unknown as McpTool[]);
  }

  /** The tools as last advertised. */
  tools(): ReadonlyMap<string, McpTool> {
    return this.#tools;
  }

  /**
   * Call a tool; `signal` cancels it (the SDK sends notifications/cancelled upstream). With
   * `onProgress`, the call asks the upstream for progress (a progress token); progress never
   * extends the hard timeout.
   */
  async call(
    tool: string,
    args: unknown,
    signal: AbortSignal,
    timeoutMs: number,
    onProgress?: (progress: unknown) => void,
  ): Promise<unknown> {
    return this.#client.callTool(
      { name: tool, arguments: args as Record<string, unknown> },
      { signal, timeout: timeoutMs, ...(onProgress ? { onprogress: onProgress } : {}) },
    );
  }

  /**
   * One pass-through request (docs/mcp-gateway.md §Methods), through the SDK's own verb so its
   * result is schema-checked; the list verbs walk every page; nothing is served from a cache.
   */
  async request(
    method: PassThroughMethod,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<unknown> {
    const c = this.#client;
    // One deadline for the whole request: the list verbs walk up to 64 pages, and the SDK's
    // timeout restarts with each page, so an upstream answering each page just in time would hold
    // the request for 64 x timeoutMs. The signal ends the whole walk at timeoutMs (I-MCP-12).
    const signal = AbortSignal.timeout(timeoutMs);
    const fresh = { timeout: timeoutMs, signal, cacheMode: 'bypass' } as const;
    switch (method) {
      case 'resources/list':
        return c.listResources(undefined, fresh);
      case 'resources/templates/list':
        return c.listResourceTemplates(undefined, fresh);
      case 'prompts/list':
        return c.listPrompts(undefined, fresh);
      case 'resources/read':
        return c.readResource(params as never, fresh);
      case 'prompts/get':
        return c.getPrompt(params as never, { timeout: timeoutMs, signal });
      case 'completion/complete':
        return c.complete(params as never, { timeout: timeoutMs, signal });
    }
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => undefined);
  }
}
