// Red team, I-MCP-9 / I-MCP-12 (docs/threat-model.md §MCP gateway; docs/spec/mcp-gateway.md §Session
// taint, Scan): a result is scanned as the text the client receives, but every item that is not a
// `text` item — structuredContent, an embedded resource of a tool result, a got prompt's embedded
// resource message — is scanned as its JSON. JSON escapes a newline as the two characters `\` `n`,
// so an injection whose words are separated by newlines (which the guardian's whitespace collapse
// catches in a text item) never matches there: the result reaches the client (the model reads the
// newlines, or the escaped JSON, just as well) and the session stays clean.
//
// Expected once fixed: the same words taint the session whatever item carries them (scan the
// string values of the JSON, not its escaped text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, openRt, type ToolResult } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-json-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'json');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

const tainted = async (read: (c: Awaited<ReturnType<typeof g.connect>>) => Promise<{ _meta?: unknown }>) => {
  const client = await g.connect();
  const r = await read(client);
  const threat = (r._meta as Record<string, unknown> | undefined)?.['helm.dev/threat'];
  const next = await echo(client);
  return { threat, next: next.structuredContent?.helm };
};

describe('I-MCP-9 / I-MCP-12 newline-split injection in JSON-scanned items', { timeout: 60_000 }, () => {
  it('control: the words in a text item taint the session', async () => {
    const t = await tainted((c) => c.callTool({ name: 'rt__inject', arguments: {} }) as Promise<ToolResult>);
    expect(t.threat).toEqual(['THREAT_PROMPT_INJECTION']);
    expect(t.next).toMatchObject({ status: 'DENIED', reason_code: 'THREAT_PROMPT_INJECTION' });
  });

  it('I-MCP-9: the same words in structuredContent taint the session', async () => {
    const t = await tainted((c) => c.callTool({ name: 'rt__drift', arguments: {} }) as Promise<ToolResult>);
    expect(t.threat).toEqual(['THREAT_PROMPT_INJECTION']);
    expect(t.next).toMatchObject({ status: 'DENIED', reason_code: 'THREAT_PROMPT_INJECTION' });
  });

  it('I-MCP-9: the same words in an embedded resource of a tool result taint the session', async () => {
    const t = await tainted((c) => c.callTool({ name: 'rt__sample', arguments: {} }) as Promise<ToolResult>);
    expect(t.threat).toEqual(['THREAT_PROMPT_INJECTION']);
    expect(t.next).toMatchObject({ status: 'DENIED', reason_code: 'THREAT_PROMPT_INJECTION' });
  });

  it('I-MCP-12: the same words in an embedded resource of a got prompt taint the session', async () => {
    const t = await tainted((c) => c.getPrompt({ name: 'rt__embedded' }));
    expect(t.threat).toEqual(['THREAT_PROMPT_INJECTION']);
    expect(t.next).toMatchObject({ status: 'DENIED', reason_code: 'THREAT_PROMPT_INJECTION' });
  });
});
