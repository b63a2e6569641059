// Red team, I-MCP-12 (docs/threat-model.md §MCP gateway; docs/mcp-gateway.md §Methods): "read
// resources and got prompts are scanned and taint the session like tool results". A tool result is
// reduced to {content, structuredContent, isError} before it is scanned, so whatever the client
// receives was scanned. A pass-through answer is relayed whole (`{...r}`), but only
// `contents[i].text` / `messages[i].content.text` are scanned: a got prompt's `description`, a read
// resource's members beside its text (an item's `_meta`, any extra member of the result, which the
// SDK's loose result schema keeps) reach the client unscanned, and the session stays clean.
//
// Expected once fixed: what the client receives of a pass-through answer is what was scanned
// (reduce the answer to the scanned members, or scan every string the answer carries).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, INJECTION, openRt } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-members-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'members');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('I-MCP-12 injection text relayed beside the scanned members', { timeout: 60_000 }, () => {
  it('a got prompt whose description carries an injection: relayed, so it must taint', async () => {
    const client = await g.connect();
    const prompt = await client.getPrompt({ name: 'rt__described' });
    const relayed = JSON.stringify(prompt).includes(INJECTION);
    const next = (await echo(client)).structuredContent?.helm;
    // Either the injection never reached the client, or the session is tainted by it.
    expect({ relayed, next: relayed ? next?.reason_code : 'n/a' }).toEqual(
      relayed ? { relayed, next: 'THREAT_PROMPT_INJECTION' } : { relayed, next: 'n/a' },
    );
  });

  it('a read resource with a benign text and the injection beside it: relayed, so it must taint', async () => {
    const client = await g.connect();
    const read = await client.readResource({ uri: 'helm+rt:mem://beside' });
    const relayed = JSON.stringify(read).includes(INJECTION);
    const next = (await echo(client)).structuredContent?.helm;
    expect({ relayed, next: relayed ? next?.reason_code : 'n/a' }).toEqual(
      relayed ? { relayed, next: 'THREAT_PROMPT_INJECTION' } : { relayed, next: 'n/a' },
    );
  });
});
