// Red team (I-CONSOLE-5, and console.ts's own promise): "Files are read only from the console's
// dist directory: the request path selects among the files listed there at start".
//
// Attack: a symbolic link inside the console directory (planted by whoever can write the installed
// package or the build output — the Contributor, or a local user of a shared install) that points
// outside it. `listFiles` walks with `statSync` (which follows links) and serves `readFileSync` of
// the link, so `/console/assets/<link>` answers with any file the server process can read (its data
// directory's key files included), under the console's own headers. A link to a directory is
// walked too (and a link cycle makes start-up recurse without end).
//
// Invariant checked: whatever the console directory holds, the server never answers a /console/
// request with bytes of a file outside that directory.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountConsole } from '../../server/src/internal/console.ts';

type Handler = (c: unknown) => Response;

/** The smallest Hono stand-in mountConsole needs: GET routes, exact or `/console/*`. */
function fakeApp() {
  const routes: [string, Handler][] = [];
  const app = { get: (path: string, h: Handler) => routes.push([path, h]) };
  const get = (path: string): Response => {
    const route =
      routes.find(([p]) => p === path) ??
      routes.find(([p]) => p.endsWith('/*') && path.startsWith(p.slice(0, -1)));
    if (!route) return new Response('no route', { status: 404 });
    const c = {
      req: { path },
      body: (data: BodyInit, status: number, headers: Record<string, string>) =>
        new Response(data, { status, headers }),
      redirect: (to: string, status: number) => new Response(null, { status, headers: { location: to } }),
    };
    return route[1](c);
  };
  return { app, get };
}

const base = mkdtempSync(join(tmpdir(), 'helm-redteam-console-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('redteam: the console server serves only the console build', () => {
  it('never answers with the bytes of a file outside the console directory (symlinks)', async () => {
    const outside = join(base, 'data');
    mkdirSync(join(outside, 'keys'), { recursive: true });
    const SECRET = '{"seed":"SECRET-SEED-OUTSIDE-THE-CONSOLE"}';
    writeFileSync(join(outside, 'keys', 'approver-1.json'), SECRET);

    const dist = join(base, 'console');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
    symlinkSync(join(outside, 'keys', 'approver-1.json'), join(dist, 'assets', 'leak.js'));
    symlinkSync(join(outside, 'keys'), join(dist, 'assets', 'keys'));

    const { app, get } = fakeApp();
    mountConsole(app as never, { chain_id: 'c', trust_anchor: 't' }, dist);

    expect(get('/console/').status).toBe(200);
    expect(await get('/console/assets/index-abc.js').text()).toBe('console.log(1)');
    for (const path of ['/console/assets/leak.js', '/console/assets/keys/approver-1.json']) {
      const res = get(path);
      const body = await res.text();
      expect(
        body.includes('SECRET-SEED'),
        `${path} answered ${res.status} with a file outside the console`,
      ).toBe(false);
    }
  });
});
