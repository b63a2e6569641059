// I-MCP-7 (docs/threat-model.md): tools/call requests are governed concurrently — the gateway puts no
// queue in front of the runtime (I-CONC-1) — and stay what one at a time would make them. Attackers
// first: a burst of calls in flight at once (allowed, denied, unknown, the same held call twice)
// must reach the upstream concurrently (the upstream sees calls overlap, which a gateway that
// queued them never shows), leave one receipt per call with Lamports 1..n and a verifying pack,
// send nothing denied upstream, open ONE challenge for two identical held calls in flight, and a
// close must let every call in flight finish with its receipt.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { DataDir, exportPack } from '@helm/runtime';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, serveGatewayStdio } from '../src/index.ts';
import { fixtureConfig, gatewayHome, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-conc-');
const dir = join(root, 'home');
const config = fixtureConfig(root);
const APPROVED = ['echo', 'write', 'deploy', 'slow'].map((t) => `fx__${t}`);

let gateway: McpGateway;
let data: DataDir;
let client: Client;
let stop: () => Promise<void>;

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};
const call = (name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }) as Promise<Result>;
const helmOf = (r: Result) => (r.structuredContent as { helm: Record<string, unknown> } | undefined)?.helm;
const upstreamCalls = (): string[] =>
  existsSync(join(root, 'calls.log')) ? readFileSync(join(root, 'calls.log'), 'utf8').trim().split('\n') : [];

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  await approveTools(data, config, APPROVED);
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

describe('I-MCP-7 governed calls in flight concurrently — attackers first', { timeout: 60_000 }, () => {
  it('a burst: calls overlap upstream; one receipt each, Lamports 1..n, denied calls never sent, one challenge for the same held call twice', async () => {
    const burst: [string, Record<string, unknown>][] = [
      ...Array.from({ length: 8 }, (_, i): [string, Record<string, unknown>] => ['fx__slow', { i }]),
      ...Array.from({ length: 6 }, (_, i): [string, Record<string, unknown>] => [
        'fx__echo',
        { text: `e${i}` },
      ]),
      ['fx__write', { path: '/etc/passwd' }],
      ['fx__write', { path: '/etc/shadow' }],
      ['fx__nope', {}],
      ['fx__deploy', { service: 'api' }],
      ['fx__deploy', { service: 'api' }],
    ];
    const results = await Promise.all(burst.map(([n, a]) => call(n, a)));

    // The upstream held several calls at once: the gateway did not queue them.
    const slow = results.filter((_, i) => burst[i]?.[0] === 'fx__slow');
    const most = Math.max(...slow.map((r) => Number((r.content[0]?.text ?? '').replace('max ', ''))));
    expect(most).toBeGreaterThan(1);
    for (const r of results.filter((_, i) => burst[i]?.[0] === 'fx__echo')) expect(r.isError).toBeFalsy();

    // Denied calls (default deny, unknown) never reached the upstream.
    expect(upstreamCalls().filter((l) => l.startsWith('write'))).toEqual([]);
    expect(
      results.filter((_, i) => burst[i]?.[0] === 'fx__write').map((r) => helmOf(r)?.reason_code),
    ).toEqual(['NO_POLICY', 'NO_POLICY']);

    // The same held call twice in flight: one escalation (one challenge), the other refused as held.
    const held = results.filter((_, i) => burst[i]?.[0] === 'fx__deploy').map((r) => helmOf(r));
    expect(held.map((h) => h?.status).sort()).toEqual(['ESCALATED', 'REFUSED']);
    expect(held.find((h) => h?.status === 'REFUSED')?.reason_code).toBe('CHALLENGE_PENDING');
    expect(new Set(held.map((h) => h?.approval_challenge_id)).size).toBe(1);
    expect(upstreamCalls().filter((l) => l.startsWith('deploy'))).toEqual([]);

    // One receipt per governed call (the held refusal is the gateway's, not a governed call),
    // Lamports 1..n without a gap, the pack verifies.
    const chain = data.config().chain_id;
    const check = new DataDir(dir);
    try {
      const stored = check.store.receiptsSync({ chainId: chain });
      expect(stored.map((r) => r.lamport)).toEqual(Array.from({ length: burst.length - 1 }, (_, i) => i + 1));
      const report = await verifyEvidencePack(exportPack(check).bytes, {
        trustAnchor: check.config().trust_anchor,
      });
      expect(report.status).toBe('PASS');
    } finally {
      check.close();
    }
    expect(receipts(dir).filter((r) => r.tool === 'mcp.fx.slow' && r.status === 'SUCCEEDED')).toHaveLength(8);
  });

  it('close() with calls in flight: each finishes with its receipt before the runtime closes', async () => {
    const before = receipts(dir).length;
    const pending = Array.from({ length: 4 }, (_, i) => call('fx__slow', { i: 100 + i }));
    // All four are inside the gateway (the upstream logged them) before the close begins.
    for (let n = 0; n < 200 && upstreamCalls().filter((l) => l.includes('"i":10')).length < 4; n++)
      await new Promise((r) => setTimeout(r, 10));
    const closing = gateway.close();
    const results = await Promise.all(pending);
    await closing;
    for (const r of results) expect(r.isError).toBeFalsy();
    expect(receipts(dir).length).toBe(before + 4);
    // Reopen for afterAll (close is idempotent there only on a fresh gateway).
    gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  });
});
