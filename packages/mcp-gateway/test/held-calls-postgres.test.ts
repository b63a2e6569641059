// I-MCP-3 on a shared PostgreSQL database (fresh for this file; no server = failure, never a skip):
// two gateways, each the runtime of its own node (data directory copy, chain) on one database. A
// call held on A is refused without its handle on A and on B — B never held it, and reads every
// node's challenges again once the governance log's head moves (the approval is appended there);
// A's handle is A's (its seal key is per gateway): B refuses it and runs nothing; on A it runs the
// approved call exactly once.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  appendGovernanceEventAsync,
  approvalStatement,
  attachDatabase,
  DataDir,
  migrateDatabase,
  publishTrust,
  verifiedChallenge,
} from '@helm/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { approveTools, McpGateway, REQUEST_STATE_META } from '../src/index.ts';
import { fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const db = await createTestDatabase('mcp_held');
const root = tempRoot('helm-held-pg-');
const template = join(root, 'template');
const gateways: McpGateway[] = [];
const nodes: DataDir[] = [];
const ran: string[] = [];

const deploy = {
  name: 'deploy',
  description: 'Deploy a service',
  inputSchema: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] },
};
/** An upstream that records which gateway ran the call. */
const fake = (node: string) => ({
  name: 'fx',
  onToolsChanged: undefined as (() => void) | undefined,
  tools: () => new Map([['deploy', deploy]]),
  refresh: async () => undefined,
  call: async (_tool: string, args: unknown) => {
    ran.push(`${node} ${JSON.stringify(args)}`);
    return { content: [{ type: 'text', text: 'deployed' }] };
  },
  close: async () => undefined,
});
const config = fixtureConfig(root, { prefix: false, tools: {} });

/** A node on the database: a copy of the template with its own chain id and no helm.db. */
async function node(name: string): Promise<DataDir> {
  const dir = join(root, name);
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: name });
  await attachDatabase(d, { url: db.url });
  nodes.push(d);
  return d;
}

beforeAll(async () => {
  gatewayHome(template);
  const t = new DataDir(template);
  await approveTools(t, config, ['deploy'], new Map([['fx', fake('template') as never]]));
  t.close();
  await migrateDatabase({ url: db.url });
  const p = new DataDir(template);
  await publishTrust(p, { url: db.url });
  p.close();
}, 60_000);

afterAll(async () => {
  for (const g of gateways.splice(0)) await g.close();
  for (const d of nodes.splice(0)) await d.closeAll();
  await db.drop();
});

const helmOf = (r: { structuredContent?: Record<string, unknown> }) =>
  (r.structuredContent as { helm: Record<string, unknown> }).helm;

it('I-MCP-3 across gateways on one database: no handle, no run on any node; the handle runs it once on its gateway', async () => {
  const open = async (name: string) => {
    const g = await McpGateway.open(await node(name), config, {
      credential: 'cred-local',
      upstreams: new Map([['fx', fake(name) as never]]),
    });
    gateways.push(g);
    return g;
  };
  const a = await open('gw-a');
  const b = await open('gw-b');
  // Each gateway has called once before the challenge exists (B's view of the rows is then old).
  for (const [i, g] of [a, b].entries())
    expect(helmOf(await g.callTool('deploy', { service: `warm-${i}` }, undefined)).status).toBe('ESCALATED');
  const held = await a.callTool('deploy', { service: 'db' }, undefined);
  expect(helmOf(held)).toMatchObject({ status: 'ESCALATED' });
  const id = helmOf(held).approval_challenge_id as string;
  const handle = helmOf(held)[REQUEST_STATE_META] as string;
  expect(helmOf(await a.callTool('deploy', { service: 'db' }, undefined))).toMatchObject({
    reason_code: 'CHALLENGE_PENDING',
    approval_challenge_id: id,
  });
  // The approval, appended to the database's one governance log by an approver elsewhere.
  const approver = await node('approver');
  const signer = approver.localKey('approver-1').signer;
  const c = verifiedChallenge(
    (await approver.shared?.governanceChallenge(id)) as never,
    await approver.registryAsync(),
  );
  await appendGovernanceEventAsync(approver, {
    action: 'approval.grant',
    body: { challenge_id: id, statement: approvalStatement(c, signer, {}) as never },
    signer,
    at: Date.now(),
  });
  for (const g of [b, a])
    expect(helmOf(await g.callTool('deploy', { service: 'db' }, undefined))).toMatchObject({
      reason_code: 'CHALLENGE_PENDING',
      approval_challenge_id: id,
    });
  // A's handle on B: B's seal key is its own, so the handle does not verify there.
  expect(
    helmOf(await b.callTool('deploy', { service: 'db' }, { [REQUEST_STATE_META]: handle })),
  ).toMatchObject({ reason_code: 'REQUEST_STATE_INVALID' });
  expect(ran).toEqual([]);
  const done = await a.callTool('deploy', { service: 'db' }, { [REQUEST_STATE_META]: handle });
  expect(done.isError).toBeUndefined();
  expect(ran).toEqual(['gw-a {"service":"db"}']);
  expect(
    helmOf(await a.callTool('deploy', { service: 'db' }, { [REQUEST_STATE_META]: handle })),
  ).toMatchObject({
    reason_code: 'CHALLENGE_CLOSED',
  });
  expect(ran).toHaveLength(1);
}, 60_000);
