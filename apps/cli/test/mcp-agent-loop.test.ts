// I-MCP-3 end to end, as a desktop agent sees it: a real SDK client spawns the BUILT `helmts mcp
// serve` on stdio; it lists tools, calls an allowed, a denied and an escalated tool; the
// escalation is approved from another `helmts` process; the retry with the sealed handle runs once;
// the chain then exports and verifies (PASS) offline.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, requireCurrentBuild, spawnHelmts } from './cli-process.ts';
import { tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-mcp-');
const home = join(root, 'home');
const FIXTURE = join(REPO, 'packages/mcp-gateway/test/fixtures/upstream.mjs');

beforeAll(() => requireCurrentBuild());

describe('I-MCP-3 helmts mcp serve: a desktop-style agent loop', { timeout: 180_000 }, () => {
  it('allowed, denied, escalated then approved from another process; export + verify PASS', async () => {
    const bundle = join(root, 'bundle.json');
    writeFileSync(
      bundle,
      JSON.stringify({
        type: 'helm.policy.bundle.v1',
        name: 'mcp',
        version: 2,
        rules: [
          { id: 'echo', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'mcp.fx.echo' } } },
          {
            id: 'deploy',
            effect: 'allow',
            when: { principal: { eq: 'local' }, tool: { eq: 'mcp.fx.deploy' } },
            requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
          },
        ],
      }),
    );
    const config = join(root, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        type: 'helm.mcp.gateway.v1',
        principal: 'local',
        upstreams: { fx: { transport: 'stdio', command: process.execPath, args: [FIXTURE] } },
        tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
      }),
    );
    const helm = (...args: string[]) => spawnHelmts(['--data-dir', home, ...args]);
    expect((await helm('init')).code).toBe(0);
    expect((await helm('policy', 'sign', bundle)).code).toBe(0);
    const approved = await helm(
      'mcp',
      'tools',
      'approve',
      '--config',
      config,
      'fx__echo',
      'fx__write',
      'fx__deploy',
    );
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);

    const client = new Client({ name: 'desktop', version: '1.0.0' }, {});
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, '--data-dir', home, 'mcp', 'serve', '--config', config],
        stderr: 'ignore',
      }),
    );
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      // fx__write is approved but no rule allows it for this principal: not offered (I-MCP-7);
      // called by name anyway, it is still governed and denied.
      expect(names).toEqual(['fx__deploy', 'fx__echo']);
      const echo = await client.callTool({ name: 'fx__echo', arguments: { text: 'hi' } });
      expect(echo.structuredContent).toEqual({ echoed: 'hi' });
      const write = await client.callTool({ name: 'fx__write', arguments: { path: '/etc/passwd' } });
      expect(write.isError).toBe(true);
      expect((write.structuredContent as { helm: { reason_code: string } }).helm.reason_code).toBe(
        'NO_POLICY',
      );
      const held = await client.callTool({ name: 'fx__deploy', arguments: { service: 'api' } });
      const h = (held.structuredContent as { helm: Record<string, string> }).helm;
      expect(h.status).toBe('ESCALATED');
      const id = h.approval_challenge_id as string;
      const ok = await helm('approve', id, '--key', join(home, 'keys', 'approver-1.json'));
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const done = await client.callTool({
        name: 'fx__deploy',
        arguments: { service: 'api' },
        _meta: { 'helm.dev/request-state': h['helm.dev/request-state'] },
      });
      expect(done.isError).toBeFalsy();
      expect(done.content).toEqual([{ type: 'text', text: 'deployed api' }]);
    } finally {
      await client.close();
    }
    const pack = join(root, 'pack.tar');
    expect((await helm('export', '--out', pack)).code).toBe(0);
    const verified = await helm('verify', pack);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('PASS: every check passed.');
  });
});
