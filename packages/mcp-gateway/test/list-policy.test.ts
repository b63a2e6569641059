// I-MCP-7 tools/list per principal by policy: a tool the principal's policy denies outright is not
// offered, as the guardian decides it (PolicyStack.couldAllow over the pinned descriptor), not a
// second rule set in the gateway. Attackers first: an unlisted tool called by name anyway is still
// one governed call, denied and receipted, and never reaches the upstream; another principal with
// no rule sees nothing; a tool held for approval stays listed.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir, initDataDir } from '@helm/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, parseGatewayConfig } from '../src/index.ts';
import { FINGERPRINT, FIXTURE, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-listpol-');
const TOOLS = ['echo', 'write', 'deploy', 'fail'].map((t) => `fx__${t}`);
const open: { gateway: McpGateway; data: DataDir }[] = [];
afterAll(async () => {
  for (const o of open) {
    await o.gateway.close();
    o.data.close();
  }
});

const upstreamCalls = (cwd: string): string[] =>
  existsSync(join(cwd, 'calls.log')) ? readFileSync(join(cwd, 'calls.log'), 'utf8').trim().split('\n') : [];

async function gatewayFor(name: string, principal: string, rules: unknown[], p0?: unknown) {
  const dir = join(root, name);
  const cwd = join(root, `${name}-cwd`);
  mkdirSync(cwd, { recursive: true });
  initDataDir(dir, {
    chainId: `lp-${name}`,
    fingerprint: FINGERPRINT,
    bundle: { type: 'helm.policy.bundle.v1', name: 'lp', version: 1, rules },
    ...(p0 ? { p0 } : {}),
    identity: [{ credential_id: `cred-${principal}`, principal }],
  } as never).data.close();
  const data = new DataDir(dir);
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      principal,
      upstreams: { fx: { transport: 'stdio', command: process.execPath, args: [FIXTURE], cwd } },
      tools: {
        fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' },
        fx__write: { effect_type: 'fs.write', risk_tier: 'HIGH', action: 'write' },
      },
      call_timeout_ms: 4_000,
    },
    cwd,
    process.env,
  );
  await approveTools(data, config, TOOLS);
  const gateway = await McpGateway.open(data, config, { credential: `cred-${principal}` });
  open.push({ gateway, data });
  const listed = async () => (await gateway.listTools()).map((t) => String(t.name)).sort();
  return { gateway, data, dir, cwd, listed };
}

describe('I-MCP-7 tools/list filtered per principal by the guardian — attackers first', {
  timeout: 60_000,
}, () => {
  it('lists what the policy could allow: default deny, an outright deny rule and a principal mismatch hide a tool; a held tool stays', async () => {
    const g = await gatewayFor('alice', 'alice', [
      { id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'mcp.fx.echo' } } },
      // Held for approval: still offered (the call decides; argument conditions likewise, which
      // the guardian's own couldAllow tests cover).
      {
        id: 'deploy-held',
        effect: 'allow',
        when: { principal: { eq: 'alice' }, tool: { eq: 'mcp.fx.deploy' } },
        requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
      },
      // Allowed by one rule, denied outright by another on the tool's fixed attributes.
      { id: 'fail', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'mcp.fx.fail' } } },
      { id: 'no-fail', effect: 'deny', when: { tool: { eq: 'mcp.fx.fail' } } },
      // Allowed for bob only: not alice's.
      { id: 'bob-writes', effect: 'allow', when: { principal: { eq: 'bob' }, tool: { eq: 'mcp.fx.write' } } },
    ]);
    expect(await g.listed()).toEqual(['fx__deploy', 'fx__echo']);

    // Unlisted tools called by name anyway: governed, denied, receipted, never sent upstream.
    for (const [name, code] of [
      ['fx__write', 'NO_POLICY'],
      ['fx__fail', 'POLICY_DENY'],
    ] as const) {
      const r = await g.gateway.callTool(name, {}, undefined);
      expect(r.isError).toBe(true);
      expect((r.structuredContent as { helm: { reason_code: string } }).helm.reason_code).toBe(code);
    }
    expect(upstreamCalls(g.cwd).filter((l) => /^(write|fail)/.test(l))).toEqual([]);
    expect(receipts(g.dir).map((r) => `${r.tool} ${r.reason_code}`)).toEqual([
      'mcp.fx.write NO_POLICY',
      'mcp.fx.fail POLICY_DENY',
    ]);
    // Listing is not a call: it left no receipt of its own.
    await g.listed();
    expect(receipts(g.dir)).toHaveLength(2);
  });

  it('another principal with no rule of its own sees nothing, and its calls are denied', async () => {
    const g = await gatewayFor('mallory', 'mallory', [
      { id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'mcp.fx.echo' } } },
    ]);
    expect(await g.listed()).toEqual([]);
    const r = await g.gateway.callTool('fx__echo', { text: 'hi' }, undefined);
    expect((r.structuredContent as { helm: { reason_code: string } }).helm.reason_code).toBe('NO_POLICY');
    expect(upstreamCalls(g.cwd)).toEqual([]);
  });

  it('the P0 ceiling: a tool whose effect type is forbidden is never listed, whatever a rule allows', async () => {
    const g = await gatewayFor(
      'ceiling',
      'alice',
      [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
      {
        type: 'helm.policy.p0.v1',
        name: 'no-writes',
        forbidden_effect_types: ['fs.write'],
        budgets: { default_principal_max: 10_000, default_tenant_max: 10_000 },
        max_delegation_ttl_ms: 3_600_000,
        require_delegation_mfa: false,
      },
    );
    // fx__write is classified fs.write by the operator (gateway.json), which P0 forbids.
    expect(await g.listed()).toEqual(['fx__deploy', 'fx__echo', 'fx__fail']);
    const r = await g.gateway.callTool('fx__write', { path: '/x' }, undefined);
    expect((r.structuredContent as { helm: { reason_code: string } }).helm.reason_code).toBe(
      'POLICY_CEILING_VIOLATION',
    );
  });
});
