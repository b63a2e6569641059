// Red team, I-MCP-12 (docs/threat-model.md §MCP gateway; docs/mcp-gateway.md §Methods): a
// pass-through "answer over max_result_bytes is withheld" and a read resource is "scanned and taints
// the session". A malicious upstream answers resources/read with a JSON-RPC error instead: the
// gateway keeps the upstream's code and relays its message (`upstream <name>: <message>`) and its
// `data` verbatim — whatever their size, unscanned. The upstream's text reaches the client (and the
// model) with no bound and no taint.
//
// Expected once fixed: an upstream error's message/data are bounded (by max_result_bytes or a small
// fixed cut) and scanned like an answer (a finding taints the session), or not relayed at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, INJECTION, MAX_RESULT_BYTES, openRt, refused } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-error-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'error');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('I-MCP-12 an upstream error is an answer too', { timeout: 60_000 }, () => {
  it('its text is bounded by max_result_bytes', async () => {
    const client = await g.connect();
    const e = await refused(client.readResource({ uri: 'helm+rt:mem://error' }));
    const size = Buffer.byteLength(JSON.stringify({ message: e.message, data: e.data }));
    expect(size).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });

  it('an injection in it never reaches the client untainted', async () => {
    const client = await g.connect();
    const e = await refused(client.readResource({ uri: 'helm+rt:mem://error' }));
    const relayed = JSON.stringify({ message: e.message, data: e.data }).includes(INJECTION);
    const next = (await echo(client)).structuredContent?.helm;
    expect({ relayed, next: relayed ? next?.reason_code : 'n/a' }).toEqual(
      relayed ? { relayed, next: 'THREAT_PROMPT_INJECTION' } : { relayed, next: 'n/a' },
    );
  });
});
