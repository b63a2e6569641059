// I-MCP-3 without a per-call scan of every challenge ever opened. The same call without its handle
// is refused while a challenge of it is open; finding that challenge used to read and parse the
// whole challenge table on every tools/call (1.55 ms of CPU per call at 100 stored challenges,
// docs/PERFORMANCE.md). Now only calls of a principal and tool that ever had a challenge read it —
// and a challenge opened through another channel of the same runtime (the server's API shares it)
// still holds the plain call.
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveTools, McpGateway } from '../src/index.ts';
import { approveChallenge, FINGERPRINT, fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-held-scan-');
const dir = join(root, 'home');
let gateway: McpGateway;
let data: DataDir;
const ran: string[] = [];
let tableReads = 0;

const schema = (p: string) => ({ type: 'object', properties: { [p]: { type: 'string' } }, required: [p] });
const tools = new Map([
  ['deploy', { name: 'deploy', description: 'Deploy a service', inputSchema: schema('service') }],
  ['echo', { name: 'echo', description: 'Echo the text back', inputSchema: schema('text') }],
]);
const fake = {
  name: 'fx',
  onToolsChanged: undefined as (() => void) | undefined,
  tools: () => tools,
  refresh: async () => undefined,
  call: async (tool: string) => {
    ran.push(tool);
    return { content: [{ type: 'text', text: 'done' }] };
  },
  close: async () => undefined,
};

const helmOf = (r: { structuredContent?: unknown }) =>
  (r.structuredContent as { helm?: Record<string, unknown> } | undefined)?.helm;

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  const config = fixtureConfig(root);
  const upstreams = new Map([['fx', fake as never]]);
  await approveTools(data, config, ['fx__deploy', 'fx__echo'], upstreams);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local', upstreams });
  // Count reads of the challenge table on the real store instance the gateway uses.
  const store = data.store as unknown as { governanceChallengesSync: (chain?: string) => unknown[] };
  const read = store.governanceChallengesSync.bind(data.store);
  store.governanceChallengesSync = (chain?: string) => {
    tableReads += 1;
    return read(chain);
  };
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

it('calls of a tool that never escalated do not read the challenge table per call', async () => {
  for (let i = 0; i < 20; i++) {
    const r = await gateway.callTool('fx__echo', { text: `t${i}` }, undefined);
    expect(r.isError).toBeFalsy();
  }
  expect(ran).toHaveLength(20);
  // Once, when the gateway first asks (what the store held before it opened), then never.
  expect(tableReads).toBeLessThanOrEqual(1);
});

it('I-MCP-3 a challenge opened through another channel of the same runtime still holds the plain call', async () => {
  ran.length = 0;
  // The server's API (POST /v1/calls) runs on the same runtime: the call escalates there.
  const api = await gateway.runtime.execute({
    tool: 'mcp.fx.deploy',
    principal: 'local',
    args: { service: 'api' },
    context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-local' },
  } as never);
  expect(api.status).toBe('ESCALATED');
  approveChallenge(dir, api.approval_challenge_id as string);
  // The MCP client makes the same call without any handle: refused, the grant left alone.
  const plain = await gateway.callTool('fx__deploy', { service: 'api' }, undefined);
  expect(helmOf(plain)).toMatchObject({
    status: 'REFUSED',
    reason_code: 'CHALLENGE_PENDING',
    approval_challenge_id: api.approval_challenge_id,
  });
  expect(ran).toHaveLength(0);
}, 60_000);
