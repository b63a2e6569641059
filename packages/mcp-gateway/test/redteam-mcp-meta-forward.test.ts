// Red team, I-MCP-5 / I-MCP-12 (docs/threat-model.md §MCP gateway): the gateway's state and the
// client's request metadata are not the upstream's. A governed tools/call reaches the upstream with
// the tool name and arguments only; a passed-through request is forwarded as `{...params}` — the
// client's whole `_meta` included: on the stateless face that is the sealed session handle
// (`helm.dev/session`, gateway-minted, bound to the authenticated principal) and the client's
// progress token. The upstream learns the principal's session handle (and its expiry and principal,
// readable in the payload) although nothing it does needs it.
//
// Expected once fixed: pass-through params are forwarded without the client's `_meta` (or with only
// members the gateway chose), as tools/call is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_META } from '../src/index.ts';
import { openRt } from './redteam-mcp-helpers.ts';
import { tempRoot } from './setup.ts';

const root = tempRoot('helm-rt-mcp-meta-');
let g: Awaited<ReturnType<typeof openRt>>;
beforeAll(async () => {
  g = await openRt(root, 'meta');
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('I-MCP-12 a pass-through does not hand the client _meta to the upstream', {
  timeout: 60_000,
}, () => {
  it('the sealed session handle never reaches the upstream', async () => {
    const client = await g.connectSealed({ principal: 'local', credential: 'cred-local' });
    const first = await client.readResource({ uri: 'helm+rt:mem://clean' });
    const handle = first._meta?.[SESSION_META] as string;
    expect(typeof handle).toBe('string');
    await client.readResource({ uri: 'helm+rt:mem://clean', _meta: { [SESSION_META]: handle } });
    const seen = g.calls().filter((l) => l.startsWith('meta '));
    expect(seen).toHaveLength(2);
    for (const line of seen) expect(line).not.toContain(handle);
  });
});
