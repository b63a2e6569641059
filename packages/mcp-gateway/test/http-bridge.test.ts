// The node:http bridge of the HTTP face: headers (repeated ones too), bodies, streaming, and a
// handler that throws (500, nothing else leaks); the bearer check compares whole headers only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerMatches, nodeListener } from '../src/index.ts';

const server = createServer(
  nodeListener(async (request) => {
    if (request.url.endsWith('/throw')) throw new Error('secret detail');
    if (request.url.endsWith('/empty')) return new Response(null, { status: 204 });
    const body = request.method === 'GET' ? '' : await request.text();
    return new Response(
      JSON.stringify({ method: request.method, cookie: request.headers.get('x-multi'), body }),
      {
        headers: { 'content-type': 'application/json' },
      },
    );
  }),
);
const base = await new Promise<string>((resolve) =>
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
);
afterAll(() => new Promise((r) => server.close(r)));

describe('HTTP face bridge', () => {
  it('passes method, headers and body through and streams the answer', async () => {
    const post = await fetch(`${base}/mcp`, { method: 'POST', body: 'hello', headers: { 'x-multi': 'a' } });
    expect(await post.json()).toEqual({ method: 'POST', cookie: 'a', body: 'hello' });
    const get = await fetch(`${base}/mcp`);
    expect(await get.json()).toMatchObject({ method: 'GET', body: '' });
    expect((await fetch(`${base}/empty`)).status).toBe(204);
  });
  it('a throwing handler is a bare 500', async () => {
    const r = await fetch(`${base}/throw`);
    expect(r.status).toBe(500);
    expect(await r.text()).toBe('');
  });
  it('the bearer check wants exactly "Bearer <token>"', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    for (const h of [null, '', 'bearer abc', 'Bearer abcd', 'Bearer ab', 'Basic abc', 'Bearer abc '])
      expect(bearerMatches(h, 'abc')).toBe(false);
  });
});
