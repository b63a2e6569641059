// I-MCP-1 and I-MCP-3 edges: approvals that must not change anything, registrations that must leave
// nothing behind, names that resolve to nothing, and sealed handles that verify but point at a
// challenge that is unknown or was denied — each refused without reaching the upstream.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import { appendGovernanceEvent, DataDir, storedChallenge, verifiedChallenge } from '@helm/runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  approveTools,
  GatewayError,
  McpGateway,
  parseGatewayConfig,
  REQUEST_STATE_META,
  seal,
} from '../src/index.ts';
import { FIXTURE, fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-edges-');
const dir = join(root, 'home');
const KEY = new Uint8Array(32).fill(9);
let data: DataDir;
let gateway: McpGateway;
const calls = (): string[] =>
  existsSync(join(root, 'calls.log')) ? readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n') : [];
const helmOf = (r: { structuredContent?: unknown }) =>
  (r.structuredContent as { helm: Record<string, unknown> }).helm;

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  const config = fixtureConfig(root);
  expect((await approveTools(data, config, ['fx__echo', 'fx__deploy'])).map((o) => o.outcome)).toEqual([
    'registered',
    'registered',
  ]);
  // A tools/ file whose mcp ref an editor broke: out of service, not a failed open.
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'mcp.fx.broken',
    description: '',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'read',
    risk_tier: 'LOW',
    action: 'call',
    driver: { kind: 'mcp', ref: 'mcp://fx/broken', timeout_ms: 1_000 },
  });
  // An upstream that cannot start: the gateway serves the others and says why on stderr.
  const withDead = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      upstreams: {
        fx: { transport: 'stdio', command: process.execPath, args: [FIXTURE], cwd: root },
        dead: { transport: 'stdio', command: join(root, 'no-such-command') },
      },
      // The same classification as approved: it is part of the pin.
      tools: { fx__echo: { effect_type: 'read', risk_tier: 'LOW', action: 'echo' } },
      call_timeout_ms: 4_000,
    },
    root,
  );
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  gateway = await McpGateway.open(data, withDead, { credential: 'cred-local', sealKey: KEY });
  expect(stderr.mock.calls.some(([m]) => String(m).includes('upstream dead'))).toBe(true);
  stderr.mockRestore();
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

describe('MCP gateway edges', { timeout: 60_000 }, () => {
  it('approving again changes nothing; unknown names and failed registrations leave nothing', async () => {
    const other = new DataDir(dir);
    const config = fixtureConfig(root);
    try {
      // The gateway holds the runtime lock: a registration would need it, an unchanged one does not.
      expect((await approveTools(other, config, ['fx__echo']))[0]?.outcome).toBe('unchanged');
      await expect(approveTools(other, config, ['fx__nope'])).rejects.toSatisfy(
        (e) => e instanceof GatewayError && e.code === 'MCP_TOOL_UNKNOWN',
      );
      const before = readdirSync(join(dir, 'tools')).sort();
      await expect(approveTools(other, config, ['fx__write'])).rejects.toMatchObject({
        code: 'DATA_DIR_LOCKED',
      });
      expect(readdirSync(join(dir, 'tools')).sort()).toEqual(before);
    } finally {
      other.close();
    }
  });

  it('names that resolve to no upstream are receipted TOOL_UNKNOWN and reach nothing', async () => {
    const before = calls().length;
    for (const name of ['echo', 'nope__echo', '__echo', 'dead__echo', 'fx__secret']) {
      const r = await gateway.callTool(name, {}, undefined);
      expect(helmOf(r), name).toMatchObject({ status: 'DENIED', reason_code: 'TOOL_UNKNOWN' });
    }
    expect(calls().length).toBe(before);
  });

  it('calls without arguments, signal or a resolvable name, and an out-of-service tool', async () => {
    expect(helmOf(await gateway.callTool('fx__echo', undefined, undefined))).toMatchObject({
      reason_code: 'SCHEMA_VIOLATION',
    });
    const ok = await gateway.callTool('fx__echo', { text: 'no signal' }, undefined);
    expect(ok.structuredContent).toEqual({ echoed: 'no signal' });
    const stray = await gateway.callTool('nope__x', {}, { [REQUEST_STATE_META]: 'hs1.x.y' });
    expect(helmOf(stray)).toMatchObject({ reason_code: 'REQUEST_STATE_INVALID' });
    const broken = await gateway.callTool('fx__broken', {}, undefined);
    // Its ref names no upstream tool: invisible, and a call to it is an unknown tool.
    expect(helmOf(broken)).toMatchObject({ status: 'DENIED', reason_code: 'TOOL_UNKNOWN' });
    expect(gateway.runtime.outOfService().get('mcp.fx.broken')?.code).toBe('TOOL_DRIVER_UNAVAILABLE');
  });

  it('a verifying handle for an unknown or denied challenge runs nothing', async () => {
    const args = { service: 'api' };
    const state = {
      principal: 'local',
      upstream: 'fx',
      tool: 'mcp.fx.deploy',
      args_digest: digest(canonicalBytes(args)),
      expires_at_ms: Date.now() + 60_000,
    };
    const unknown = seal(KEY, { ...state, challenge_id: `sha256:${'00'.repeat(32)}` });
    const r1 = await gateway.callTool('fx__deploy', args, { [REQUEST_STATE_META]: unknown });
    expect(helmOf(r1)).toMatchObject({ reason_code: 'CHALLENGE_CLOSED' });
    const held = await gateway.callTool('fx__deploy', args, undefined);
    const id = helmOf(held).approval_challenge_id as string;
    const deny = new DataDir(dir);
    try {
      const key = deny.localKey('approver-1').signer;
      verifiedChallenge(storedChallenge(deny, id), deny.registry());
      appendGovernanceEvent(deny, {
        action: 'approval.deny',
        body: { challenge_id: id, reason: 'no' },
        signer: key,
        at: Date.now(),
      });
    } finally {
      deny.close();
    }
    const r2 = await gateway.callTool('fx__deploy', args, {
      [REQUEST_STATE_META]: helmOf(held)[REQUEST_STATE_META],
    });
    expect(helmOf(r2)).toMatchObject({ reason_code: 'CHALLENGE_CLOSED' });
    // A handle whose challenge holds another request (minted with the key: a key-holder's mistake).
    const mixed = seal(KEY, {
      ...state,
      tool: 'mcp.fx.echo',
      args_digest: digest(canonicalBytes({ text: 'a' })),
      challenge_id: id,
    });
    const r3 = await gateway.callTool('fx__echo', { text: 'a' }, { [REQUEST_STATE_META]: mixed });
    expect(helmOf(r3).reason_code).toMatch(/^(CHALLENGE_CLOSED|REQUEST_STATE_INVALID)$/);
    expect(calls().filter((c) => c.startsWith('deploy')).length).toBe(0);
  });
});
