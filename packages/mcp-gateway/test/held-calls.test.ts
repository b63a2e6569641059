// I-MCP-3: a held call runs only through its sealed handle. A plain call with the held call's
// arguments is refused while its challenge is open (pending here), never re-held under a fresh
// handle and never run; with the handle, after approval, it runs exactly once. Also: with
// `prefix: false` a tool named like an Object.prototype member is unclassified, not inherited.
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveTools, McpGateway, REQUEST_STATE_META } from '../src/index.ts';
import { approveChallenge, fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-held-');
const dir = join(root, 'home');
let gateway: McpGateway;
let data: DataDir;
const ran: unknown[] = [];

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
  const config = fixtureConfig(root, { prefix: false, tools: {} });
  const upstreams = new Map([['fx', fake as never]]);
  await approveTools(data, config, ['deploy'], upstreams);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local', upstreams });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

const helmOf = (r: { structuredContent?: Record<string, unknown> }) =>
  (r.structuredContent as { helm: Record<string, unknown> }).helm;

it('I-MCP-3 a plain call of a held call is refused while its challenge is open; the handle runs it once', async () => {
  const held = await gateway.callTool('deploy', { service: 'db' }, undefined);
  expect(helmOf(held)).toMatchObject({ status: 'ESCALATED' });
  const id = helmOf(held).approval_challenge_id as string;
  const handle = helmOf(held)[REQUEST_STATE_META] as string;
  // Pending: the plain repeat gets no new handle and runs nothing.
  const bare = await gateway.callTool('deploy', { service: 'db' }, undefined);
  expect(helmOf(bare)).toEqual({
    status: 'REFUSED',
    reason_code: 'CHALLENGE_PENDING',
    approval_challenge_id: id,
  });
  expect(bare.isError).toBe(true);
  // Other arguments are another call: held under a challenge of their own.
  const other = await gateway.callTool('deploy', { service: 'web' }, undefined);
  expect(helmOf(other)).toMatchObject({ status: 'ESCALATED' });
  expect(helmOf(other).approval_challenge_id).not.toBe(id);
  approveChallenge(dir, id);
  // Approved: still not without the handle.
  expect(helmOf(await gateway.callTool('deploy', { service: 'db' }, undefined)).reason_code).toBe(
    'CHALLENGE_PENDING',
  );
  expect(ran).toEqual([]);
  const done = await gateway.callTool('deploy', { service: 'db' }, { [REQUEST_STATE_META]: handle });
  expect(done.isError).toBeUndefined();
  expect(ran).toEqual([{ service: 'db' }]);
  // The grant is used: the same call is held afresh, not refused.
  expect(helmOf(await gateway.callTool('deploy', { service: 'db' }, undefined)).status).toBe('ESCALATED');
  expect(ran).toHaveLength(1);
}, 60_000);

it('a tool named like an Object.prototype member is unclassified', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
    expect(gateway.classification('fx', name)).toEqual({
      effect_type: 'unknown',
      risk_tier: 'HIGH',
      action: 'call',
    });
});
