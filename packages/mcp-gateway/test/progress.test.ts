// I-MCP-8 progress relay (docs/mcp-gateway.md §Calls): an upstream's progress for a governed call reaches
// the client that asked for it (its own progress token), only while that call is in flight,
// strictly increasing, rate-limited, with bounded messages. Attackers first (the upstream is the
// attacker): a repeated value, a burst, a 5000-character message and an update after the answer
// are dropped or cut; a client that asked for no progress gets none and the upstream gets no token;
// a denied call sends nothing upstream and relays nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, PROGRESS_MAX_MESSAGE, serveGatewayStdio } from '../src/index.ts';
import { fixtureConfig, gatewayHome, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-progress-');
const dir = join(root, 'home');
const config = fixtureConfig(root);

let gateway: McpGateway;
let data: DataDir;
let client: Client;
let stop: () => Promise<void>;

const upstreamCalls = (): string[] =>
  existsSync(join(root, 'calls.log')) ? readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n') : [];

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  await approveTools(data, config, ['fx__progress', 'fx__write']);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const handle = serveGatewayStdio(gateway, { transport: b as never });
  client = new Client({ name: 'agent', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
  await client.connect(a);
  stop = async () => {
    await client.close();
    await handle.close();
  };
}, 60_000);

afterAll(async () => {
  await stop?.();
  await gateway?.close();
  data?.close();
});

type Progress = { progress: number; total?: number; message?: string };

describe('I-MCP-8 progress relay — attackers first', { timeout: 60_000 }, () => {
  it('relays the upstream progress of an allowed call: increasing only, rate-limited, messages cut, nothing after the answer', async () => {
    const seen: Progress[] = [];
    const r = await client.callTool(
      { name: 'fx__progress', arguments: { burst: 40 } },
      { onprogress: (p) => void seen.push(p as Progress) },
    );
    expect(r.isError).toBeFalsy();
    // Let the upstream's late update arrive (and be dropped).
    await new Promise((res) => setTimeout(res, 400));
    const values = seen.map((p) => p.progress);
    expect(values[0]).toBe(1);
    expect(values).toContain(2);
    // (90, the last before the answer, usually arrives too; a loaded machine may deliver it after
    // the result, when the client has stopped listening, so it is not asserted.)
    expect(values).not.toContain(99);
    // Strictly increasing: the repeated 1 was dropped.
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1] as number);
    // The burst of 40 sent back to back was mostly dropped (one per interval), not queued.
    expect(values.filter((v) => v >= 10 && v < 50).length).toBeLessThan(10);
    expect(Math.max(...seen.map((p) => p.message?.length ?? 0))).toBe(PROGRESS_MAX_MESSAGE);
    expect(seen[0]).toMatchObject({ message: 'starting', total: 100 });
  });

  it('a client that asks for no progress gets none, and the upstream is asked for none', async () => {
    const before = upstreamCalls().length;
    const r = await client.callTool({ name: 'fx__progress', arguments: { burst: 0 } });
    expect(r.isError).toBeFalsy();
    expect(upstreamCalls().slice(before)).toContain('progress token none');
  });

  it('a denied call relays nothing and never reaches the upstream', async () => {
    const seen: unknown[] = [];
    const before = upstreamCalls().length;
    const r = (await client.callTool(
      { name: 'fx__write', arguments: { path: '/etc/passwd' } },
      { onprogress: (p) => void seen.push(p) },
    )) as { isError?: boolean };
    expect(r.isError).toBe(true);
    expect(seen).toEqual([]);
    expect(upstreamCalls().slice(before)).toEqual([]);
  });
});
