// I-MCP-12 (docs/threat-model.md §MCP gateway): resources, prompts and completion pass through to
// an upstream only where gateway.json's `upstreams.<name>.allow` names the family; by default they
// are "method not found". A real SDK client <-> the gateway <-> real SDK upstreams
// (fixtures/resources-upstream.mjs) over stdio: routing by prefix (names `<upstream>__`, URIs
// `helm+<upstream>:`), the no-prefix single-upstream mode, refusals that reach no upstream, and an
// adversarial upstream whose server→client requests (push-style, and a 2026-07-28 input-required
// result) never reach the client.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDir } from '@helm/runtime';
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approveTools,
  gatewayHttpHandler,
  McpGateway,
  nodeListener,
  PassThroughRouter,
  parseGatewayConfig,
  SESSION_META,
  serveGatewayStdio,
} from '../src/index.ts';
import { gatewayHome, FIXTURE as TOOLS_FIXTURE, tempRoot } from './setup.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/resources-upstream.mjs', import.meta.url));
const root = tempRoot('helm-mcp-pass-');

const upstream = (id: string, allow?: string[]) => ({
  transport: 'stdio',
  command: process.execPath,
  args: [FIXTURE],

  env: { UPSTREAM_ID: id },
  ...(allow ? { allow } : {}),
});

/** What the client was asked by anyone (it declares sampling, elicitation and roots). */
const asked: string[] = [];

async function open(name: string, upstreams: Record<string, unknown>, prefix = true, approve: string[] = []) {
  const dir = join(root, name);
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd, { recursive: true });
  gatewayHome(join(dir, 'home'));
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      prefix,
      upstreams: upstreams,
      call_timeout_ms: 10_000,
      max_result_bytes: 100_000,
    },
    cwd,
  );
  const data = new DataDir(join(dir, 'home'));
  if (approve.length > 0) await approveTools(data, config, approve);
  const gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  const connect = async (mode: 'legacy' | 'auto') => {
    const [a, b] = InMemoryTransport.createLinkedPair();
    const handle = serveGatewayStdio(gateway, { transport: b as never });
    const client = new Client(
      { name: 'desktop', version: '1.0.0' },
      { versionNegotiation: { mode }, capabilities: { sampling: {}, elicitation: { form: {} }, roots: {} } },
    );
    client.setRequestHandler('sampling/createMessage', async () => {
      asked.push('sampling');
      return { role: 'assistant', content: { type: 'text', text: 'leaked' }, model: 'm' } as never;
    });
    client.setRequestHandler('elicitation/create', async () => {
      asked.push('elicitation');
      return { action: 'accept', content: {} } as never;
    });
    client.setRequestHandler('roots/list', async () => {
      asked.push('roots');
      return { roots: [{ uri: 'file:///home/me' }] } as never;
    });
    await client.connect(a);
    return {
      client,
      close: async () => {
        await client.close();
        await handle.close();
      },
    };
  };
  const calls = (): string[] =>
    existsSync(join(cwd, 'calls.log')) ? readFileSync(join(cwd, 'calls.log'), 'utf8').trim().split('\n') : [];
  const close = async () => {
    await gateway.close();
    data.close();
  };
  return { gateway, connect, calls, close };
}

type Opened = Awaited<ReturnType<typeof open>>;
type Conn = Awaited<ReturnType<Opened['connect']>>;
const reason = (e: unknown) => (e as { data?: { helm?: { reason_code?: string } } }).data?.helm?.reason_code;
const code = (e: unknown) => (e as { code?: number }).code;
async function refused(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal, got an answer');
}

describe('pass-through of resources, prompts, completion (I-MCP-12)', { timeout: 120_000 }, () => {
  describe('default: nothing allowed', () => {
    let g: Opened;
    let c: Conn;
    beforeAll(async () => {
      g = await open('deny', { a: upstream('a'), b: upstream('b') });
      c = await g.connect('auto');
    }, 60_000);
    afterAll(async () => {
      await c?.close();
      await g?.close();
    });

    it('every other method is "method not found" and reaches no upstream', async () => {
      const client = c.client;
      expect(client.getServerCapabilities()).toEqual({ tools: { listChanged: true } });
      // The SDK client itself answers the list verbs empty for a server without the capability.
      expect((await client.listResources()).resources).toEqual([]);
      expect((await client.listPrompts()).prompts).toEqual([]);
      for (const attempt of [
        () => client.readResource({ uri: 'helm+a:file:///notes/x' }),
        () => client.getPrompt({ name: 'a__greet', arguments: { who: 'x' } }),
        () =>
          client.complete({
            ref: { type: 'ref/prompt', name: 'a__greet' },
            argument: { name: 'who', value: 'b' },
          }),
      ])
        expect(code(await refused(attempt()))).toBe(-32601);
      expect(g.calls()).toEqual([]);
      expect(g.gateway.passThrough.counts()).toEqual({});
    });
  });

  describe('prefixed, two upstreams: a allows resources, prompts, completion; b prompts only', () => {
    let g: Opened;
    let c: Conn;
    beforeAll(async () => {
      g = await open(
        'prefixed',
        {
          a: upstream('a', ['resources', 'prompts', 'completion']),
          b: upstream('b', ['prompts']),
          // The tools fixture, for the session taint a read resource leaves on later tool calls.
          fx: { transport: 'stdio', command: process.execPath, args: [TOOLS_FIXTURE] },
        },
        true,
        ['fx__echo'],
      );
      c = await g.connect('auto');
    }, 60_000);
    afterAll(async () => {
      await c?.close();
      await g?.close();
    });

    it('lists only allowing upstreams, URIs as helm+<upstream>: and names as <upstream>__', async () => {
      const { resources } = await c.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['helm+a:file:///notes/a.txt', 'helm+a:mem://sneaky-push']);
      const { resourceTemplates } = await c.client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['helm+a:file:///notes/{name}']);
      const { prompts } = await c.client.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['a__greet', 'b__greet']);
    });

    it('routes a read, a prompt and a completion to the upstream its prefix names, marked untrusted', async () => {
      const read = await c.client.readResource({ uri: 'helm+a:file:///notes/x' });
      expect(read.contents).toEqual([
        { uri: 'helm+a:file:///notes/x', mimeType: 'text/plain', text: 'a says x' },
      ]);
      expect(read._meta?.['helm.dev/untrusted']).toBe(true);
      const prompt = await c.client.getPrompt({ name: 'b__greet', arguments: { who: 'bob' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'b greets bob' });
      const done = await c.client.complete({
        ref: { type: 'ref/resource', uri: 'helm+a:file:///notes/{name}' },
        argument: { name: 'name', value: 'q' },
      });
      expect(done.completion.values).toEqual(['a:q1', 'a:q2']);
      expect(g.calls()).toEqual([
        'a read file:///notes/x',
        'b prompt greet',
        'a complete ref/resource file:///notes/{name}',
      ]);
    });

    it('refuses a family the upstream does not allow, an unknown upstream and an unprefixed target: none reaches an upstream', async () => {
      const before = g.calls().length;
      for (const attempt of [
        () => c.client.readResource({ uri: 'helm+b:file:///notes/x' }),
        () => c.client.readResource({ uri: 'helm+zz:file:///notes/x' }),
        () => c.client.readResource({ uri: 'file:///notes/x' }),
        () => c.client.getPrompt({ name: 'greet', arguments: { who: 'x' } }),
        () => c.client.getPrompt({ name: 'zz__greet', arguments: { who: 'x' } }),
        () =>
          c.client.complete({
            ref: { type: 'ref/prompt', name: 'b__greet' },
            argument: { name: 'who', value: 'x' },
          }),
      ]) {
        const e = await refused(attempt());
        expect(code(e)).toBe(-32602);
        expect(reason(e)).toBe('METHOD_NOT_ALLOWED');
      }
      expect(g.calls().length).toBe(before);
      expect(g.gateway.passThrough.counts()).toMatchObject({
        'b resources/read refused METHOD_NOT_ALLOWED': 1,
        '- resources/read refused METHOD_NOT_ALLOWED': 2,
        '- prompts/get refused METHOD_NOT_ALLOWED': 2,
        'b completion/complete refused METHOD_NOT_ALLOWED': 1,
        'a resources/read forwarded': 1,
        'b prompts/get forwarded': 1,
      });
    });

    it('a read resource is untrusted input: an injection in it taints the session, later tool calls are denied (I-MCP-9)', async () => {
      const own = await g.connect('auto');
      try {
        const echo = (await own.client.callTool({ name: 'fx__echo', arguments: { text: 'hi' } })) as {
          isError?: boolean;
        };
        expect(echo.isError).toBeFalsy();
        const read = await own.client.readResource({ uri: 'helm+a:mem://inject' });
        expect(read._meta?.['helm.dev/threat']).toEqual(
          expect.arrayContaining([expect.stringMatching(/^THREAT_/)]),
        );
        const after = (await own.client.callTool({ name: 'fx__echo', arguments: { text: 'hi' } })) as {
          structuredContent?: { helm?: { status?: string; reason_code?: string } };
        };
        expect(after.structuredContent?.helm?.status).toBe('DENIED');
        expect(after.structuredContent?.helm?.reason_code).toMatch(/^THREAT_/);
      } finally {
        await own.close();
      }
      // Another connection is another session: untouched.
      const clean = (await c.client.callTool({ name: 'fx__echo', arguments: { text: 'hi' } })) as {
        isError?: boolean;
      };
      expect(clean.isError).toBeFalsy();
    });

    it('HTTP face: a read resource names its sealed session and taints it; no handle is a new session (I-MCP-9)', async () => {
      const TOKEN = 'pass-through-token';
      const server = createServer(nodeListener(gatewayHttpHandler(g.gateway, { bearerToken: TOKEN })));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
      const remote = new Client(
        { name: 'remote', version: '1.0.0' },
        { versionNegotiation: { mode: 'legacy' } },
      );
      await remote.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
        }),
      );
      type R = {
        isError?: boolean;
        _meta?: Record<string, unknown>;
        structuredContent?: { helm?: Record<string, unknown> };
      };
      const echo = (handle?: unknown) =>
        remote.callTool({
          name: 'fx__echo',
          arguments: { text: 'hi' },
          ...(handle === undefined ? {} : { _meta: { [SESSION_META]: handle } }),
        }) as Promise<R>;
      try {
        const first = await echo();
        const handle = first._meta?.[SESSION_META];
        expect(typeof handle).toBe('string');
        const read = await remote.readResource({
          uri: 'helm+a:mem://inject',
          _meta: { [SESSION_META]: handle },
        });
        expect(read._meta?.[SESSION_META]).toBe(handle);
        expect(read._meta?.['helm.dev/threat']).toEqual(
          expect.arrayContaining([expect.stringMatching(/^THREAT_/)]),
        );
        expect((await echo(handle)).structuredContent?.helm).toMatchObject({ status: 'DENIED' });
        const fresh = await remote.readResource({ uri: 'helm+a:file:///notes/z' });
        expect(typeof fresh._meta?.[SESSION_META]).toBe('string');
        expect(fresh._meta?.[SESSION_META]).not.toBe(handle);
        expect((await echo()).isError).toBeFalsy();
      } finally {
        await remote.close();
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });

    it("keeps an upstream's own error code, and withholds an answer over max_result_bytes", async () => {
      const missing = await refused(c.client.readResource({ uri: 'helm+a:mem://nothing' }));
      // The upstream's code and message (2026-07-28: invalid params for an unknown resource).
      expect(code(missing)).toBe(-32602);
      expect((missing as Error).message).toMatch(/upstream a: .*no resource mem:\/\/nothing/);
      expect(reason(missing)).toBe('UPSTREAM_ERROR');
      const big = await refused(c.client.readResource({ uri: 'helm+a:mem://big' }));
      expect(reason(big)).toBe('RESULT_TOO_LARGE');
      expect(JSON.stringify(big).length).toBeLessThan(10_000);
    });

    it("an upstream's server→client requests never reach the client (2025 push-style, 2026 input-required)", async () => {
      // The client declares sampling, elicitation and roots and would answer them.
      const legacy = await g.connect('legacy');
      try {
        const push = await legacy.client.readResource({ uri: 'helm+a:mem://sneaky-push' });
        expect(push.contents[0]).toMatchObject({
          text: 'sampling refused, elicitation refused, roots refused',
        });
      } finally {
        await legacy.close();
      }
      const mrtr = await refused(c.client.readResource({ uri: 'helm+a:mem://sneaky-mrtr' }));
      expect(reason(mrtr)).toBe('UPSTREAM_REQUEST_REFUSED');
      expect(asked).toEqual([]);
      expect(g.gateway.passThrough.counts()['a resources/read refused UPSTREAM_REQUEST_REFUSED']).toBe(1);
    });
  });

  describe('no prefix, one upstream (resources and prompts allowed)', () => {
    let g: Opened;
    let c: Conn;
    beforeAll(async () => {
      g = await open('single', { solo: upstream('solo', ['resources', 'prompts']) }, false);
      c = await g.connect('legacy');
    }, 60_000);
    afterAll(async () => {
      await c?.close();
      await g?.close();
    });

    it("serves the upstream's own URIs and names; completion stays not found", async () => {
      const { resources } = await c.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['file:///notes/a.txt', 'mem://sneaky-push']);
      const read = await c.client.readResource({ uri: 'file:///notes/y' });
      expect(read.contents[0]).toMatchObject({ uri: 'file:///notes/y', text: 'solo says y' });
      const prompt = await c.client.getPrompt({ name: 'greet', arguments: { who: 'me' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'solo greets me' });
      const e = await refused(
        c.client.complete({
          ref: { type: 'ref/prompt', name: 'greet' },
          argument: { name: 'who', value: 'x' },
        }),
      );
      expect(code(e)).toBe(-32601);
      expect(g.calls()).toEqual(['solo read file:///notes/y', 'solo prompt greet']);
    });
  });
});

describe('gateway.json allow (I-MCP-12)', () => {
  const parse = (allow: unknown) =>
    parseGatewayConfig(
      {
        type: 'helm.mcp.gateway.v1',
        upstreams: { fx: { transport: 'http', url: 'https://x.example/mcp', allow } },
      },
      '/base',
    );
  it('accepts the pass-through families', () => {
    expect(parse(['resources', 'prompts', 'completion']).upstreams.fx?.allow).toEqual([
      'resources',
      'prompts',
      'completion',
    ]);
  });
  it.each([
    [['resource'], /is not one of resources, prompts, completion/],
    [['sampling'], /is not offered by this gateway version/],
    [['roots'], /is not offered/],
    [['logging'], /is not offered/],
    [['subscriptions'], /is not offered/],
    [['prompts', 'prompts'], /is named twice/],
    ['resources', /must be an array/],
    [[1], /is not one of/],
  ])('refuses allow %j at load', (allow, message) => {
    expect(() => parse(allow)).toThrow(message);
  });
});

describe('PassThroughRouter on answers the SDK would not produce (I-MCP-12)', () => {
  // A stand-in upstream answering what a real SDK client would refuse first: the router's own
  // checks must hold without the SDK's.
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      prefix: false,
      upstreams: { u: { transport: 'http', url: 'https://u.example/mcp', allow: ['resources'] } },
    },
    '/base',
  );
  const router = (answer: unknown) =>
    new PassThroughRouter(config, new Map([['u', { name: 'u', request: async () => answer } as never]]));
  it.each([
    [{ resultType: 'input_required', inputRequests: {} }, 'UPSTREAM_REQUEST_REFUSED'],
    [{ contents: [], inputRequests: {} }, 'UPSTREAM_REQUEST_REFUSED'],
    ['not an object', 'RESULT_TOO_LARGE'],
  ])('withholds %j', async (answer, code) => {
    expect(reason(await refused(router(answer).readResource({ uri: 'x:y' })))).toBe(code);
  });
  it('a failure without a JSON-RPC error of its own is one stable code', async () => {
    const r = new PassThroughRouter(
      config,
      new Map([
        [
          'u',
          {
            name: 'u',
            request: async () => {
              throw new Error('boom');
            },
          } as never,
        ],
      ]),
    );
    const e = await refused(r.readResource({ uri: 'x:y' }));
    expect([code(e), reason(e), (e as Error).message]).toEqual([
      -32603,
      'UPSTREAM_ERROR',
      'HELM: upstream u failed',
    ]);
  });
});
