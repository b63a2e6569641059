// I-MCP-5 (docs/threat-model.md §MCP gateway): an adversarial upstream answers tools/call with
// results the protocol does not allow. It speaks raw JSON-RPC (no SDK on its side to keep it
// honest). Each malformed answer is withheld (one the SDK client drops ends by the hard timeout): the client gets an isError result naming a FAILED
// governed call with its receipt, never the upstream's bytes, and the gateway keeps serving.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDir } from '@helm/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, parseGatewayConfig } from '../src/index.ts';
import { gatewayHome, receipts, tempRoot } from './setup.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/malformed-upstream.mjs', import.meta.url));
const root = tempRoot('helm-mcp-malformed-');
const open: { gateway: McpGateway; data: DataDir }[] = [];

afterAll(async () => {
  for (const { gateway, data } of open) {
    await gateway.close();
    data.close();
  }
});

async function gatewayFor(mode: string): Promise<{ gateway: McpGateway; dir: string }> {
  const dir = join(root, mode);
  gatewayHome(dir);
  const data = new DataDir(dir);
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      principal: 'local',
      upstreams: {
        fx: {
          transport: 'stdio',
          command: process.execPath,
          args: [FIXTURE],
          cwd: root,
          env: { FIXTURE_MALFORMED: mode },
        },
      },
      tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
      // Answers the client drops (not a result it accepts) end by this timeout: keep it short.
      call_timeout_ms: 1_000,
    },
    root,
  );
  await approveTools(data, config, ['fx__echo']);
  const gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  open.push({ gateway, data });
  return { gateway, dir };
}

describe('I-MCP-5 malformed upstream results are withheld and receipted', { timeout: 60_000 }, () => {
  for (const mode of ['content', 'string', 'items', 'error', 'not-json'])
    it(`${mode}: an isError result for a FAILED governed call, with its receipt`, async () => {
      const { gateway, dir } = await gatewayFor(mode);
      const r = await gateway.callTool('fx__echo', { text: 'hi' }, undefined);
      expect(r.isError).toBe(true);
      const helm = (r.structuredContent as { helm: Record<string, unknown> }).helm;
      expect(helm.status).toBe('FAILED');
      expect(JSON.stringify(r)).not.toMatch(/not-an-array|a bare string|hologram|nested/);
      const last = receipts(dir).at(-1);
      expect(last).toMatchObject({ tool: 'mcp.fx.echo', status: 'FAILED' });
      expect(helm.receipt_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      // The gateway still serves (a second call is governed and receipted the same way).
      const again = await gateway.callTool('fx__echo', { text: 'again' }, undefined);
      expect((again.structuredContent as { helm: Record<string, unknown> }).helm.status).toBe('FAILED');
    });
});
