// Red team (#20), I-MCP-3: "A held call's retry runs only through its sealed handle ...: a forged,
// edited, expired or re-targeted handle is refused and runs nothing". Attacker: the MCP client.
// gateway.ts callTool only opens the handle when `_meta` carries one; a plain tools/call with the
// held call's arguments and NO handle goes straight to runtime.execute, where the guardian matches
// the approved challenge by intent and consumes its grant. So the handle's binding and expiry
// (escalation_ttl_ms) are not what gates the retry: once the client's handle has expired (and is
// refused as `expired`), dropping `_meta` runs the held call on the upstream anyway.
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveTools, McpGateway, REQUEST_STATE_META } from '../src/index.ts';
import { approveChallenge, fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-rt20-handle-');
const dir = join(root, 'home');
let gateway: McpGateway;
let data: DataDir;
const ran: unknown[] = [];
let t = Date.now();
const clock = { now: () => t };
const TTL = 60_000;

const deploy = {
  name: 'deploy',
  description: 'Deploy a service',
  inputSchema: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] },
};
const fake = {
  name: 'fx',
  onToolsChanged: undefined as (() => void) | undefined,
  tools: () => new Map([['deploy', deploy]]),
  refresh: async () => undefined,
  call: async (_tool: string, args: unknown) => {
    ran.push(args);
    return { content: [{ type: 'text', text: 'deployed' }] };
  },
  close: async () => undefined,
};

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  const config = fixtureConfig(root, { escalation_ttl_ms: TTL });
  const upstreams = new Map([['fx', fake as never]]);
  await approveTools(data, config, ['fx__deploy'], upstreams);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local', upstreams, clock });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

it('I-MCP-3 an approved held call does not run without its (unexpired) sealed handle', async () => {
  const held = await gateway.callTool('fx__deploy', { service: 'api' }, undefined);
  const helm = (held.structuredContent as { helm: Record<string, unknown> }).helm;
  expect(helm).toMatchObject({ status: 'ESCALATED' });
  const id = helm.approval_challenge_id as string;
  const handle = helm[REQUEST_STATE_META] as string;
  approveChallenge(dir, id);
  // The handle expires (the challenge itself is still approved and unexpired: ttl 1 h).
  t += TTL + 1;
  const expired = await gateway.callTool('fx__deploy', { service: 'api' }, { [REQUEST_STATE_META]: handle });
  expect((expired.structuredContent as { helm: Record<string, unknown> }).helm.reason_code).toBe(
    'REQUEST_STATE_INVALID',
  );
  expect(ran).toHaveLength(0);
  // The same call without any handle: must not run the held call either.
  const bare = await gateway.callTool('fx__deploy', { service: 'api' }, undefined);
  expect(ran).toHaveLength(0);
  expect(bare.isError).toBe(true);
}, 60_000);
