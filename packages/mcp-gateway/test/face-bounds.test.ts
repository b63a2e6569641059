// I-MCP-6: the HTTP face bounds what a client can make it hold. The body is streamed to the
// handler (never read ahead of the bearer check: redteam-20-preauth-body.test.ts), capped in bytes
// (413, by the declared Content-Length or by what arrives) and must arrive in time (408); the
// connection of a refused body is closed, not drained.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeListener } from '../src/index.ts';

let server: Server;
let port = 0;
const seen: number[] = [];

beforeAll(async () => {
  server = createServer(
    nodeListener(
      async (req) => {
        const body = new Uint8Array(await req.arrayBuffer());
        seen.push(body.byteLength);
        return new Response(String(body.byteLength));
      },
      { maxBodyBytes: 1024, bodyTimeoutMs: 300 },
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** POST `chunks` (chunked unless `length` is declared); `end` false leaves the body open. */
function post(chunks: Buffer[], opts: { length?: number; end?: boolean } = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mcp',
        headers: opts.length === undefined ? {} : { 'content-length': opts.length },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`));
    for (const c of chunks) req.write(c);
    if (opts.end !== false) req.end();
  });
}

describe('I-MCP-6 HTTP face body bounds', () => {
  it('a body within the cap reaches the handler whole', async () => {
    expect(await post([Buffer.alloc(600, 0x61), Buffer.alloc(424, 0x62)])).toBe(200);
    expect(seen.at(-1)).toBe(1024);
  });
  it('a declared Content-Length over the cap is 413 before any body is read', async () => {
    const before = seen.length;
    expect(await post([Buffer.alloc(10, 0x61)], { length: 4096, end: false })).toBe(413);
    expect(seen.length).toBe(before);
  });
  it('a chunked body that grows over the cap is 413', async () => {
    const before = seen.length;
    expect(await post([Buffer.alloc(800, 0x61), Buffer.alloc(800, 0x61)], { end: false })).toBe(413);
    expect(seen.length).toBe(before);
  });
  it('a body that never ends is 408', async () => {
    const before = seen.length;
    expect(await post([Buffer.alloc(10, 0x61)], { end: false })).toBe(408);
    expect(seen.length).toBe(before);
  });
});
