// `helmts mcp`: the MCP gateway (docs/mcp-gateway.md). `mcp serve --config gateway.json` serves MCP clients
// on stdio (Claude Desktop and other desktop agents spawn it); `mcp tools list` shows what the
// upstreams advertise and whether each is approved; `mcp tools approve` pins tools (first approval:
// registered; a changed descriptor: a signed `tool.repin` event the running gateway applies).
// The composition lives in @helm/mcp-gateway; this is its shell.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import type { GatewayConfig } from '@helm/mcp-gateway';
import { type DataDir, governanceSnapshot, identityList, parseJson } from '@helm/runtime';
import type { Command } from 'commander';
import { type CommandResult, ok } from '../errors.js';
import type { Wrap } from './admin.js';
import { withDataDir, withNodeStore } from './data.js';
import { credentialOf } from './identity.js';

// @helm/mcp-gateway (the MCP SDK, zod) loads only when an `mcp` command runs: every other command
// starts without it (most of a process's start-up was loading it).
const gatewayModule = () => import('@helm/mcp-gateway');

/** gateway.json, read strictly; `{ "env": NAME }` values come from this process's environment. */
export async function readGatewayConfig(file: string): Promise<GatewayConfig> {
  const path = resolve(file);
  const doc = parseJson(new Uint8Array(readFileSync(path)), path);
  return (await gatewayModule()).parseGatewayConfig(doc, dirname(path), process.env);
}

/** A GatewayError as the CLI reports errors (exit 2, its own code and hint). */
async function gatewayErrors(fn: () => Promise<CommandResult>): Promise<CommandResult> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof (await gatewayModule()).GatewayError)) throw error;
    return {
      exitCode: 2,
      json: {
        ok: false,
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      },
      human: [`error: ${error.message}`, ...(error.hint ? [`hint: ${error.hint}`] : [])],
    };
  }
}

export async function mcpToolsList(data: DataDir, configFile: string): Promise<CommandResult> {
  return gatewayErrors(async () => {
    data.requireInitialized();
    const config = await readGatewayConfig(configFile);
    const advertised = await (await gatewayModule()).advertisedTools(config);
    const registered = new Map(
      data.toolDescriptors().map((d) => [String(d.name), digest(canonicalBytes(d))]),
    );
    const tools = [...advertised.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, t]) => {
        const now = digest(canonicalBytes(t.descriptor));
        const pinned = registered.get(t.descriptor.name);
        const state = pinned === undefined ? 'unapproved' : pinned === now ? 'approved' : 'changed';
        return { name, helm_name: t.descriptor.name, state, descriptor_digest: now };
      });
    return ok({ tools }, [
      `Tools the upstreams of ${configFile} advertise:`,
      ...tools.map((t) => `  ${t.name.padEnd(32)} ${t.state.padEnd(10)} ${t.helm_name}`),
      ...(tools.some((t) => t.state !== 'approved')
        ? ['Approve with: helmts mcp tools approve --config <gateway.json> <name...> (or --all)']
        : []),
    ]);
  });
}

export async function mcpToolsApprove(
  data: DataDir,
  configFile: string,
  names: readonly string[],
  opts: { all?: boolean },
): Promise<CommandResult> {
  return gatewayErrors(async () => {
    if (names.length === 0 && !opts.all)
      return {
        exitCode: 2,
        json: { ok: false, error: { code: 'USAGE', message: 'name the tools to approve, or give --all' } },
        human: ['error: name the tools to approve, or give --all'],
      };
    const { approveTools } = await gatewayModule();
    const outcomes = await approveTools(data, await readGatewayConfig(configFile), names);
    return ok({ tools: outcomes }, [
      ...outcomes.map((o) => `  ${o.name.padEnd(32)} ${o.outcome.padEnd(10)} ${o.descriptor_digest}`),
    ]);
  });
}

/** Serve on stdio until the client closes stdin (or SIGINT/SIGTERM); nothing else goes to stdout. */
export async function mcpServe(
  data: DataDir,
  configFile: string,
  opts: { principal?: string },
): Promise<CommandResult> {
  return gatewayErrors(async () => {
    data.requireInitialized();
    const { McpGateway, serveGatewayStdio } = await gatewayModule();
    const parsed = await readGatewayConfig(configFile);
    const config = opts.principal ? { ...parsed, principal: opts.principal } : parsed;
    // On a shared database the bindings are the database's (its one governance log, read once).
    const credential = data.shared
      ? identityList(await governanceSnapshot(data)).bindings.find((b) => b.principal === config.principal)
          ?.credential_id
      : credentialOf(data, config.principal);
    const gateway = await McpGateway.open(data, config, credential ? { credential } : {});
    const handle = serveGatewayStdio(gateway, {
      onerror: (e) => process.stderr.write(`helm mcp: ${e.message}\n`),
    });
    await new Promise<void>((done) => {
      process.stdin.once('end', done);
      process.stdin.once('close', done);
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await handle.close();
    await gateway.close();
    return { exitCode: 0, json: { ok: true }, human: [] };
  });
}

export function registerMcpCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const config = [
    '--config <file>',
    'the gateway configuration (gateway.json, docs/mcp-gateway.md)',
  ] as const;
  const mcp = program
    .command('mcp')
    .description('the MCP gateway: every tool call of an MCP client governed by HELM');
  mcp
    .command('serve')
    .description('serve MCP clients on stdio (e.g. as a Claude Desktop server command)')
    .requiredOption(...config)
    .option('--principal <name>', 'the principal calls are made for (default: gateway.json principal)')
    .option(...json)
    .action(
      // With --database-url / HELM_DATABASE_URL the gateway's runtime runs on that database.
      wrap((o: { config: string; principal?: string }, cmd: Command) =>
        withNodeStore(cmd, (data) => mcpServe(data, o.config, o)),
      ),
    );
  const tools = mcp.command('tools').description('upstream tools: list, approve (pin)');
  tools
    .command('list')
    .description('what the upstreams advertise: approved, changed (hidden until re-approved) or unapproved')
    .requiredOption(...config)
    .option(...json)
    .action(
      wrap((o: { config: string }, cmd: Command) => withDataDir(cmd, (data) => mcpToolsList(data, o.config))),
    );
  tools
    .command('approve [name...]')
    .description(
      'pin tools as advertised now (a changed one: a signed tool.repin the running gateway applies)',
    )
    .requiredOption(...config)
    .option('--all', 'every advertised tool')
    .option(...json)
    .action(
      wrap((names: string[], o: { config: string; all?: boolean }, cmd: Command) =>
        withDataDir(cmd, (data) => mcpToolsApprove(data, o.config, names, o)),
      ),
    );
}
