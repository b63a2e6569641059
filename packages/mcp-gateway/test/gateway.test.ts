// I-MCP-1..5 (docs/threat-model.md §MCP gateway): a real SDK client <-> the gateway <-> a real SDK
// upstream over stdio, attackers first. The client is the attacker (forged, replayed and
// re-targeted request state; arguments outside the pinned schema; unapproved and unknown tools),
// and so is the upstream (a rug pull mid-session, huge and drifting results, a hang, an injection
// payload, a request it was not allowed to send).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, REQUEST_STATE_META, serveGatewayStdio } from '../src/index.ts';
import { approveChallenge, fixtureConfig, gatewayHome, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-gw-');
const dir = join(root, 'home');
const cwd = root;
const config = fixtureConfig(cwd);
const APPROVED = [
  'echo',
  'write',
  'deploy',
  'rugpull',
  'huge',
  'hang',
  'inject',
  'drift',
  'sample',
  'env',
  'fail',
].map((t) => `fx__${t}`);

let gateway: McpGateway;
let data: DataDir;
let client: Client;
let stop: () => Promise<void>;

const calls = (): string[] =>
  existsSync(join(cwd, 'calls.log')) ? readFileSync(join(cwd, 'calls.log'), 'utf8').trim().split('\n') : [];

async function connect(mode: 'legacy' | 'auto'): Promise<{ client: Client; close: () => Promise<void> }> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  const handle = serveGatewayStdio(gateway, { transport: b as never });
  const c = new Client({ name: 'desktop', version: '1.0.0' }, { versionNegotiation: { mode } });
  await c.connect(a);
  return {
    client: c,
    close: async () => {
      await c.close();
      await handle.close();
    },
  };
}

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
};
const call = (name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) =>
  client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }) as Promise<Result>;
const helmOf = (r: Result) => (r.structuredContent as { helm: Record<string, unknown> }).helm;

beforeAll(async () => {
  process.env.HELM_TEST_SECRET = 'never-forwarded';
  gatewayHome(dir);
  data = new DataDir(dir);
  const outcomes = await approveTools(data, config, APPROVED);
  expect(outcomes.map((o) => o.outcome)).toEqual(APPROVED.map(() => 'registered'));
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  ({ client, close: stop } = await connect('legacy'));
}, 60_000);

afterAll(async () => {
  await stop?.();
  await gateway?.close();
  data?.close();
});

describe('MCP gateway over stdio — attackers first', { timeout: 60_000 }, () => {
  it('I-MCP-1 lists approved tools only, prefixed; an unapproved upstream tool is hidden and refused', async () => {
    const listed = (await client.listTools()).tools.map((t) => t.name).sort();
    // fx__write is approved but no rule allows it for this principal: not offered (I-MCP-7).
    expect(listed).toEqual(APPROVED.filter((t) => t !== 'fx__write').sort());
    expect(listed).not.toContain('fx__secret');
    const before = calls().length;
    const r = await call('fx__secret');
    expect(r.isError).toBe(true);
    expect(helmOf(r)).toMatchObject({ status: 'DENIED', reason_code: 'TOOL_UNKNOWN' });
    expect(calls().length).toBe(before);
  });

  it('I-MCP-2 a call outside the pinned input schema or the policy never reaches the upstream', async () => {
    const before = calls().length;
    const bad = await call('fx__echo', { text: 'x'.repeat(101) });
    expect(helmOf(bad)).toMatchObject({ reason_code: 'SCHEMA_VIOLATION' });
    const extra = await call('fx__echo', { text: 'hi', extra: 1 });
    expect(helmOf(extra)).toMatchObject({ reason_code: 'SCHEMA_VIOLATION' });
    // Annotations claim write is read-only; no rule allows it: denied regardless.
    const denied = await call('fx__write', { path: '/etc/passwd' });
    expect(denied.isError).toBe(true);
    expect(helmOf(denied).status).toBe('DENIED');
    expect(typeof helmOf(denied).receipt_hash).toBe('string');
    expect(calls().length).toBe(before);
  });

  it('allowed calls run on the upstream and their result comes back marked untrusted', async () => {
    const r = await call('fx__echo', { text: 'hello' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ echoed: 'hello' });
    expect(r._meta?.['helm.dev/untrusted']).toBe(true);
    expect(calls().at(-1)).toBe('echo {"text":"hello"}');
    const failed = await call('fx__fail');
    expect(failed).toMatchObject({ isError: true, content: [{ type: 'text', text: 'the tool failed' }] });
    // On a connection of its own: the injection taints its session (taint.test.ts, I-MCP-9).
    const side = await connect('legacy');
    try {
      const inj = (await side.client.callTool({ name: 'fx__inject', arguments: {} })) as Result;
      expect(inj._meta?.['helm.dev/untrusted']).toBe(true);
    } finally {
      await side.close();
    }
  });

  it("the stdio upstream runs with a minimal environment: none of the gateway's secrets", async () => {
    const r = await call('fx__env');
    const keys = JSON.parse(r.content[0]?.text ?? '[]') as string[];
    expect(keys).toContain('FIXTURE_MODE');
    expect(keys).not.toContain('HELM_TEST_SECRET');
    // PATH, what gateway.json names, and the SDK's fixed terminal set; nothing else.
    const allowed = new Set(['PATH', 'FIXTURE_MODE', 'HOME', 'LOGNAME', 'SHELL', 'TERM', 'USER']);
    expect(keys.filter((k) => !allowed.has(k))).toEqual([]);
  });

  it('I-MCP-3 escalation: held, sealed handle bound to the call, single-use grant', async () => {
    const before = calls().length;
    const held = await call('fx__deploy', { service: 'api' });
    expect(held.isError).toBe(true);
    const h = helmOf(held);
    expect(h).toMatchObject({ status: 'ESCALATED', reason_code: 'APPROVAL_REQUIRED' });
    const id = h.approval_challenge_id as string;
    const handle = h[REQUEST_STATE_META] as string;
    expect(held.content[0]?.text).toContain(id);
    // Before approval: still held.
    const pending = await call('fx__deploy', { service: 'api' }, { [REQUEST_STATE_META]: handle });
    expect(helmOf(pending)).toMatchObject({ reason_code: 'CHALLENGE_PENDING' });
    approveChallenge(dir, id);
    // A forged handle, and the real handle with other arguments or on another tool: refused.
    const [head, payload, mac] = handle.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()),
        expires_at_ms: 9e15,
      }),
    ).toString('base64url');
    for (const [name, args, state] of [
      ['fx__deploy', { service: 'api' }, `${head}.${forgedPayload}.${mac}`],
      ['fx__deploy', { service: 'db' }, handle],
      ['fx__echo', { text: 'api' }, handle],
      ['fx__deploy', { service: 'api' }, 'not-a-handle'],
    ] as const) {
      const r = await call(name, args, { [REQUEST_STATE_META]: state });
      expect(helmOf(r).reason_code, `${name} ${JSON.stringify(args)}`).toBe('REQUEST_STATE_INVALID');
    }
    expect(calls().length).toBe(before);
    // The real retry: policy re-run, grant consumed, the upstream runs once.
    const ok = await call('fx__deploy', { service: 'api' }, { [REQUEST_STATE_META]: handle });
    expect(ok.isError).toBeFalsy();
    expect(ok.content[0]?.text).toBe('deployed api');
    expect(calls().slice(before)).toEqual(['deploy {"service":"api"}']);
    // The grant is single-use.
    const again = await call('fx__deploy', { service: 'api' }, { [REQUEST_STATE_META]: handle });
    expect(helmOf(again)).toMatchObject({ reason_code: 'CHALLENGE_CLOSED' });
    expect(calls().length).toBe(before + 1);
  });

  it('I-MCP-5 huge, drifting and hanging upstream results are withheld and receipted', async () => {
    const huge = await call('fx__huge');
    expect(huge.isError).toBe(true);
    expect(helmOf(huge)).toMatchObject({ status: 'FAILED' });
    expect(JSON.stringify(huge).length).toBeLessThan(10_000);
    const drift = await call('fx__drift');
    expect(drift.isError).toBe(true);
    expect(JSON.stringify(drift)).not.toContain('not-an-integer');
    const hang = await call('fx__hang');
    expect(helmOf(hang)).toMatchObject({ reason_code: 'DRIVER_TIMEOUT' });
    const tail = receipts(dir).slice(-3);
    expect(tail.map((r) => r.tool)).toEqual(['mcp.fx.huge', 'mcp.fx.drift', 'mcp.fx.hang']);
  });

  it('I-MCP-5 an upstream request it was not allowed to send (sampling) is refused', async () => {
    const r = await call('fx__sample');
    expect(r.content[0]?.text).toMatch(/^sampling refused/);
  });

  it('a client cancellation is propagated upstream and receipted', async () => {
    const controller = new AbortController();
    const pending = client.callTool({ name: 'fx__hang', arguments: {} }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 500));
    controller.abort();
    await expect(pending).rejects.toThrow();
    // The gateway finishes the governed call: the receipt records the (possibly effective) outcome.
    for (let i = 0; i < 50 && !calls().includes('hang cancelled'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(calls()).toContain('hang cancelled');
    // Calls are not queued (I-MCP-7): wait for the cancelled call's receipt itself.
    for (let i = 0; i < 50 && receipts(dir).at(-1)?.tool !== 'mcp.fx.hang'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const last = receipts(dir).at(-1);
    expect(last).toMatchObject({ tool: 'mcp.fx.hang', status: 'FAILED' });
  });

  it('I-MCP-4 a descriptor changed mid-session is hidden, receipted TOOL_DESCRIPTOR_CHANGED, re-listed after re-approval', async () => {
    const changed = new Promise<void>((resolve) => {
      const off = gateway.onListChanged(() => {
        off();
        resolve();
      });
    });
    await call('fx__rugpull');
    await changed;
    const listed = (await client.listTools()).tools.map((t) => t.name);
    expect(listed).not.toContain('fx__echo');
    expect(
      receipts(dir).some((r) => r.tool === 'mcp.fx.echo' && r.reason_code === 'TOOL_DESCRIPTOR_CHANGED'),
    ).toBe(true);
    const before = calls().length;
    const r = await call('fx__echo', { text: 'still there?' });
    expect(helmOf(r)).toMatchObject({ reason_code: 'TOOL_DESCRIPTOR_CHANGED' });
    expect(calls().length).toBe(before);
    // Re-approval from another "process" (a signed tool.repin event), applied by the live gateway.
    const other = new DataDir(dir);
    try {
      const out = await approveTools(other, config, ['fx__echo']);
      expect(out[0]?.outcome).toBe('repinned');
    } finally {
      other.close();
    }
    const relisted = (await client.listTools()).tools.find((t) => t.name === 'fx__echo');
    expect(relisted?.description).toContain('SYSTEM');
    const ok = await call('fx__echo', { text: 'back' });
    expect(ok.structuredContent).toEqual({ echoed: 'back' });
  });

  it('serves the 2026-07-28 era on the same face', async () => {
    const modern = await connect('auto');
    try {
      expect(modern.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const names = (await modern.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('fx__echo');
      const r = (await modern.client.callTool({ name: 'fx__write', arguments: { path: '/x' } })) as Result;
      expect(r.isError).toBe(true);
      expect(helmOf(r).status).toBe('DENIED');
    } finally {
      await modern.close();
    }
  });

  it('methods other than tools are not served', async () => {
    const caps = client.getServerCapabilities() ?? {};
    expect(Object.keys(caps).sort()).toEqual(['tools']);
    // Sent anyway (a client that ignores capabilities): method not found.
    await expect(client.getPrompt({ name: 'x' })).rejects.toThrow();
  });
});

afterAll(() => writeFileSync(join(root, 'done'), ''));
