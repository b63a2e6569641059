// I-MCP-12: every string a pass-through relays is scanned, lists and completions included — not only
// read resources and got prompts. The red-team upstream lists a prompt whose description is an
// injection and completes any argument with one; a client that received either has a tainted
// session (or never received the text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, INJECTION, openRt } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-mcp-relay-scan-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'relay');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

const outcome = async (answer: unknown, client: Awaited<ReturnType<typeof g.connect>>) => {
  const relayed = JSON.stringify(answer).includes(INJECTION);
  const next = (await echo(client)).structuredContent?.helm;
  return { relayed, next: relayed ? next?.reason_code : 'n/a' };
};

describe('I-MCP-12 lists and completions relay nothing unscanned', { timeout: 60_000 }, () => {
  it('prompts/list: a listed description that is an injection taints the session', async () => {
    const client = await g.connect();
    const listed = await client.listPrompts();
    expect(await outcome(listed, client)).toEqual({ relayed: true, next: 'THREAT_PROMPT_INJECTION' });
  });

  it('completion/complete: a completed value that is an injection taints the session', async () => {
    const client = await g.connect();
    const done = await client.complete({
      ref: { type: 'ref/prompt', name: 'rt__described' },
      argument: { name: 'x', value: '' },
    });
    expect(await outcome(done, client)).toEqual({ relayed: true, next: 'THREAT_PROMPT_INJECTION' });
  });

  it('on the sealed face a list names its session and hands the handle back', async () => {
    const client = await g.connectSealed({ principal: 'local', credential: 'cred-local' });
    const listed = await client.listPrompts();
    expect(listed._meta?.['helm.dev/threat']).toEqual(['THREAT_PROMPT_INJECTION']);
    const handle = listed._meta?.['helm.dev/session'];
    expect(typeof handle).toBe('string');
    expect((await echo(client, handle)).structuredContent?.helm?.reason_code).toBe('THREAT_PROMPT_INJECTION');
  });
});
