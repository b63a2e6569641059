// Red team, I-MCP-11 (docs/threat-model.md §MCP gateway; docs/spec/mcp-gateway.md §Session table):
// "one principal's flood evicts none of another's". The per-principal share bounds how many
// sessions a principal keeps, but the character bound (maxChars, 32 Mi by default) is global, and
// what a session is charged includes each finding's `source` — `resource:` + the URI the client
// itself sent. One authenticated principal (mallory), well within its share of sessions (40 of
// 1,000), reads a tainting resource under 1 MiB URIs: its sessions alone pass maxChars, and the
// global loop evicts the least recently used session of all — another principal's. Bob's tainted
// session is then refused SESSION_EVICTED (and so is every handle of his that began before it), so
// mallory can knock any other principal's sessions out at will (default limits, real SDK client).
//
// Expected once fixed: a principal's characters are bounded by its own share too (or the source is
// cut to a fixed length), so mallory's flood evicts only mallory's sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_META } from '../src/index.ts';
import { echo, openRt } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-evict-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'evict');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe("I-MCP-11 one principal cannot evict another principal's sessions", { timeout: 120_000 }, () => {
  it("mallory's 40 tainted sessions with long URIs leave bob's tainted session kept", async () => {
    // Bob is the policy's `local` principal; his session is tainted by a read resource.
    const bob = await g.connectSealed({ principal: 'local', credential: 'cred-local' });
    const read = await bob.readResource({ uri: 'helm+rt:mem://inject' });
    const handle = read._meta?.[SESSION_META];
    expect(read._meta?.['helm.dev/threat']).toEqual(['THREAT_PROMPT_INJECTION']);
    expect((await echo(bob, handle)).structuredContent?.helm).toMatchObject({
      status: 'DENIED',
      reason_code: 'THREAT_PROMPT_INJECTION',
    });

    // Mallory, another authenticated principal: 40 new sessions, one read each (no handle).
    const mallory = await g.connectSealed({ principal: 'mallory' });
    const long = `helm+rt:mem://inject?${'a'.repeat(1024 * 1024)}`;
    for (let i = 0; i < 40; i++) {
      const r = await mallory.readResource({ uri: `${long}${i}` });
      expect(r._meta?.['helm.dev/threat']).toEqual(['THREAT_PROMPT_INJECTION']);
    }

    // Bob's session is still his tainted one: denied by the threat gate, not refused as evicted.
    expect((await echo(bob, handle)).structuredContent?.helm).toMatchObject({
      status: 'DENIED',
      reason_code: 'THREAT_PROMPT_INJECTION',
    });
  });
});
