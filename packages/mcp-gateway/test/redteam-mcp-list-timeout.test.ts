// Red team, I-MCP-12 (docs/threat-model.md §MCP gateway; docs/mcp-gateway.md §Methods, "What a
// pass-through is": "the upstream's hard timeout is call_timeout_ms"). The list verbs walk every page
// of the upstream's list (the SDK's auto-aggregation, up to 64 pages), and the timeout is applied
// per page: an upstream that answers each page just inside call_timeout_ms with another nextCursor
// holds a client's resources/templates/list (and every other upstream's part of it) for up to
// 64 x call_timeout_ms. Here: 1 s timeout, six pages of 400 ms each.
//
// Expected once fixed: one deadline of call_timeout_ms for the whole walk (an upstream that has not
// finished by then is left out of the aggregate, as a failing one is).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRt } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-pages-');
const TIMEOUT = 1_000;
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'pages', { callTimeoutMs: TIMEOUT, env: { SLOW_PAGE_MS: '400', PAGES: '6' } });
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('I-MCP-12 a pass-through list is bounded by call_timeout_ms', { timeout: 60_000 }, () => {
  it('a slowly paginating upstream holds resources/templates/list no longer than the timeout', async () => {
    const client = await g.connect();
    const started = performance.now();
    await client.listResourceTemplates().catch(() => undefined);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT + 500);
  });
});
