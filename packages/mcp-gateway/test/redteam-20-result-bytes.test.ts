// Red team (#20), I-MCP-5: "results larger than `max_result_bytes` ... are withheld and receipted".
// Attacker: the MCP upstream. The gateway measures a result with `JSON.stringify(result).length`
// (gateway.ts #checkedResult), i.e. UTF-16 code units, not bytes. A result of non-ASCII text
// (U+20AC is 3 bytes in UTF-8, 1 code unit) that is 1.5x (up to 3x) max_result_bytes in bytes
// passes the limit and is released to the client and hashed into a SUCCEEDED receipt.
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveTools, McpGateway } from '../src/index.ts';
import { fixtureConfig, gatewayHome, receipts, tempRoot } from './setup.ts';

const root = tempRoot('helm-rt20-bytes-');
const dir = join(root, 'home');
let gateway: McpGateway;
let data: DataDir;
let payload = '';

// A fake upstream (duck-typed Upstream): one tool `huge` (allowed by the test policy).
const tool = { name: 'huge', description: 'Big answer', inputSchema: { type: 'object' } };
const fake = {
  name: 'fx',
  onToolsChanged: undefined as (() => void) | undefined,
  tools: () => new Map([['huge', tool]]),
  refresh: async () => undefined,
  call: async () => ({ content: [{ type: 'text', text: payload }] }),
  close: async () => undefined,
};

beforeAll(async () => {
  gatewayHome(dir);
  data = new DataDir(dir);
  const config = fixtureConfig(root);
  const upstreams = new Map([['fx', fake as never]]);
  await approveTools(data, config, ['fx__huge'], upstreams);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local', upstreams });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  data?.close();
});

it('I-MCP-5 a result over max_result_bytes in UTF-8 bytes is withheld', async () => {
  const limit = gateway.config.max_result_bytes;
  // Half the limit in code units, 1.5x the limit in bytes.
  payload = '\u20ac'.repeat(Math.floor(limit / 2));
  const bytes = Buffer.byteLength(JSON.stringify({ content: [{ type: 'text', text: payload }] }), 'utf8');
  expect(bytes).toBeGreaterThan(limit);
  const r = await gateway.callTool('fx__huge', {}, undefined);
  // Expected: withheld (isError, FAILED receipt), nothing of the payload released.
  expect(r.isError).toBe(true);
  expect(JSON.stringify(r).length).toBeLessThan(10_000);
  expect(receipts(dir).at(-1)).toMatchObject({ tool: 'mcp.fx.huge', status: 'FAILED' });
}, 60_000);
