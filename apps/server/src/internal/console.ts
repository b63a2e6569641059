// The HELM console (apps/console) served at /console/: its built static files, and
// /console/context.json — the chain id and trust anchor the console's approvals are signed for
// (public identifiers: every pack and every exported challenge carries them). Mounted before the
// API's middleware, so these answers carry their own security headers: a CSP that allows this
// origin's scripts and styles (the API's is `default-src 'none'`) and nothing else — no inline
// script, no other origin, no framing. Files are read only from the console's dist directory: the
// request path selects among the files listed there at start, never a path built from the URL.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * The built console, shipped inside this package at `dist/console/` (apps/console's build writes
 * it there; `files` publishes `dist`), so an installed `@helm/server` serves the same bytes as the
 * workspace. Two folders up from this module is the package root, from `src/internal/` (tests,
 * from sources) and from `dist/internal/` (built, installed, or inside the CLI bundle alike).
 */
export function consoleDir(): string {
  return fileURLToPath(new URL('../../dist/console/', import.meta.url));
}

function listFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  // lstat, not stat: only regular files and real directories of the build are served. A symbolic
  // link planted in the build (to a key file, or a loop) is neither followed nor served.
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) files.set(`/console/${relative(dir, full).split(sep).join('/')}`, full);
    }
  };
  walk(dir);
  return files;
}

export function mountConsole(
  // biome-ignore lint/suspicious/noExplicitAny: any Hono app (its Env is the caller's)
  app: Hono<any>,
  log: { chain_id: string; trust_anchor: string },
  dir = consoleDir(),
): void {
  const files = listFiles(dir);
  const headers = (type: string, cache: string): Record<string, string> => ({
    'content-type': type,
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
    'cache-control': cache,
  });
  app.get('/', (c) => c.redirect('/console/', 302));
  app.get('/console', (c) => c.redirect('/console/', 302));
  app.get('/console/context.json', (c) =>
    c.body(
      JSON.stringify({ chain_id: log.chain_id, trust_anchor: log.trust_anchor }),
      200,
      headers('application/json', 'no-store'),
    ),
  );
  app.get('/console/*', (c) => {
    const path = c.req.path === '/console/' ? '/console/index.html' : c.req.path;
    const file = files.get(path);
    if (file === undefined) {
      const hint = files.size === 0 ? ' (the console is not built: pnpm --filter @helm/console build)' : '';
      return c.body(`not found${hint}\n`, 404, headers('text/plain; charset=utf-8', 'no-store'));
    }
    const ext = path.slice(path.lastIndexOf('.'));
    // Assets are content-hashed (immutable); the page itself is always revalidated.
    const cache = path.startsWith('/console/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return c.body(readFileSync(file), 200, headers(TYPES[ext] ?? 'application/octet-stream', cache));
  });
}
