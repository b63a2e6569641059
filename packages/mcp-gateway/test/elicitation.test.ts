// I-MCP-10 (its URL-elicitation part): URL elicitation of a held call on the stdio face (docs/mcp-gateway.md §Calls): a client that declared
// URL elicitation is sent to the approval page (gateway.json `approval_url`) by the era's own
// mechanism — the 2026-07-28 input-required result, the SDK's 2025 shim (an elicitation/create
// request within the call) — and its retry, carrying the sealed handle back as requestState, runs
// the call after the approval. A client that did not declare it gets the isError result.
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveTools, McpGateway, REQUEST_STATE_META, serveGatewayStdio } from '../src/index.ts';
import { approveChallenge, fixtureConfig, gatewayHome, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-elicit-');
const dir = join(root, 'home');
const config = fixtureConfig(root, { approval_url: 'https://helm.example/v1/approvals/{id}' });
let gateway: McpGateway;
let data: DataDir;

type Result = {
  content: { type: string; text?: string }[];
  structuredContent?: { helm?: Record<string, unknown> };
  isError?: boolean;
};

async function connect(mode: 'legacy' | 'auto', elicitation: boolean, onUrl?: (url: string) => void) {
  const [a, b] = InMemoryTransport.createLinkedPair();
  const handle = serveGatewayStdio(gateway, { transport: b as never });
  const c = new Client(
    { name: 'desktop', version: '1.0.0' },
    { versionNegotiation: { mode }, ...(elicitation ? { capabilities: { elicitation: { url: {} } } } : {}) },
  );
  if (elicitation)
    c.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url: string };
      expect(params.mode).toBe('url');
      onUrl?.(params.url);
      return { action: 'accept' };
    });
  await c.connect(a);
  return {
    call: (name: string, args: object) =>
      c.callTool({ name, arguments: args as Record<string, unknown> }) as Promise<Result>,
    close: async () => {
      await c.close();
      await handle.close();
    },
  };
}

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  await approveTools(data, config, ['fx__deploy']);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

describe('URL elicitation of a held call (stdio)', { timeout: 60_000 }, () => {
  for (const mode of ['auto', 'legacy'] as const)
    it(`${mode}: the client is sent to the approval page; once approved, the retry runs the call`, async () => {
      const urls: string[] = [];
      const s = await connect(mode, true, (url) => {
        urls.push(url);
        // The approver acts on the page; the user then continues.
        const id = decodeURIComponent(url.split('/').at(-1) as string);
        approveChallenge(dir, id);
      });
      try {
        const r = await s.call('fx__deploy', { service: mode });
        expect(r.isError).toBeFalsy();
        expect(r.content[0]?.text).toBe(`deployed ${mode}`);
        expect(urls).toHaveLength(1);
        expect(urls[0]).toMatch(/^https:\/\/helm\.example\/v1\/approvals\/sha256%3A[0-9a-f]{64}$/);
        const last = receipts(dir)
          .filter((x) => x.tool === 'mcp.fx.deploy')
          .slice(-2);
        expect(last.map((x) => x.status)).toEqual(['ESCALATED', 'SUCCEEDED']);
      } finally {
        await s.close();
      }
    });

  it('a client that did not declare URL elicitation gets the isError result with the challenge', async () => {
    const s = await connect('auto', false);
    try {
      const r = await s.call('fx__deploy', { service: 'plain' });
      expect(r.isError).toBe(true);
      expect(r.structuredContent?.helm).toMatchObject({
        status: 'ESCALATED',
        reason_code: 'APPROVAL_REQUIRED',
      });
      expect(typeof r.structuredContent?.helm?.[REQUEST_STATE_META]).toBe('string');
    } finally {
      await s.close();
    }
  });
});
