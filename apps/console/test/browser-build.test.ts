// I-CONSOLE-2. @helm/evidencepack's browser entry is browser code: built for the browser (Vite, the `browser`
// condition, browser-only.ts refusing every Node built-in) its module graph has no `node:*` or
// other Node built-in import and its bundle names no `Buffer`. The same build of the Node entry
// (no `browser` condition) is refused — the plant that shows the guard works. The browser entry
// exports what index.ts exports, minus the file APIs. Chromium then runs it: e2e.test.ts.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserOnly, isNodeBuiltin } from '../browser-only.ts';

const here = new URL('..', import.meta.url).pathname;
let work = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'helm-console-browser-build-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Bundle `source` (an entry module in apps/console) for the browser; the JS it gives. */
async function bundle(name: string, source: string, conditions?: string[]): Promise<string> {
  const entry = join(here, `.browser-build-${name}.ts`);
  const out = join(work, name);
  await writeFile(entry, source);
  try {
    await build({
      root: here,
      configFile: false,
      logLevel: 'silent',
      plugins: [browserOnly()],
      ...(conditions ? { resolve: { conditions } } : {}),
      build: {
        outDir: out,
        emptyOutDir: true,
        target: 'es2023',
        // Minified: comments (noble's mention Buffer) go, global names like `Buffer` stay.
        minify: true,
        lib: { entry, formats: ['es'], fileName: 'out' },
        rollupOptions: { treeshake: false },
      },
    });
  } finally {
    await rm(entry, { force: true });
  }
  let js = '';
  for (const f of await readdir(out)) if (f.endsWith('.js')) js += await readFile(join(out, f), 'utf8');
  return js;
}

describe('@helm/evidencepack for the browser', () => {
  it('the guard knows Node built-ins in every spelling, and nothing else', () => {
    for (const id of [
      'node:fs',
      'fs',
      'node:worker_threads',
      'worker_threads',
      'fs/promises',
      'crypto',
      'util',
    ])
      expect(isNodeBuiltin(id)).toBe(true);
    for (const id of [
      '@helm/evidencepack',
      '@noble/hashes/sha2.js',
      'ajv/dist/2020.js',
      '#platform',
      './x.js',
    ])
      expect(isNodeBuiltin(id)).toBe(false);
  });

  it('its browser entry bundles with no Node built-in and no Buffer (tree-shaking off: the whole graph)', async () => {
    const js = await bundle('browser', "export * from '@helm/evidencepack';\n");
    expect(js).toContain('verifyEvidencePack');
    expect(js).not.toMatch(/(?<![\w$])Buffer(?![\w$])/);
    // No import statement, dynamic import or require of node:* is left (the build would have
    // failed first). The text 'node:' itself occurs: ProofGraph signer roles are `node:<KIND>`, and
    // the replay script shipped in every pack is a string that imports node:fs.
    expect(js).not.toMatch(/(?:^|[;}\s])import[^'"`;]*?from\s*["']node:/m);
    expect(js).not.toMatch(/(?:import|require)\(\s*["']node:/);
  }, 120_000);

  it('the Node entry is refused by the same build (the plant: node:fs, worker_threads)', async () => {
    await expect(
      bundle('node', "export * from '@helm/evidencepack';\n", ['import', 'module', 'default']),
    ).rejects.toThrow(/Node built-in 'node:(fs|crypto|os|worker_threads)'/);
  }, 120_000);

  it('its in-memory entry source reads archives exactly as the Node one (honest, truncated, malformed)', async () => {
    const web = await import('../../../packages/evidencepack/src/browser-platform.ts');
    const node = await import('../../../packages/evidencepack/src/internal/entry-source.ts');
    const { writeTar } = await import('../../../packages/evidencepack/src/tar.ts');
    const te = new TextEncoder();
    const honest = writeTar([
      { path: 'a.json', data: te.encode('{"a":1}') },
      { path: 'b/c.json', data: te.encode('[1,2,3]') },
    ]);
    const cases = [
      honest,
      honest.subarray(0, 700),
      Uint8Array.from(honest, (b, i) => (i === 148 ? b ^ 1 : b)),
      new Uint8Array(0),
    ];
    let refused = 0;
    for (const bytes of cases) {
      const a = web.bytesSource(bytes);
      const b = node.bytesSource(bytes);
      if ('error' in b.scan) refused++;
      expect(a.packDigest).toBe(b.packDigest);
      if ('error' in b.scan) {
        expect('error' in a.scan).toBe(true);
        expect(String((a.scan as { error: unknown }).error)).toBe(String(b.scan.error));
      } else {
        expect(a.scan).toEqual(b.scan);
        for (const e of b.scan.entries) expect(a.read(e)).toEqual(b.read(e));
      }
    }
    expect(refused).toBe(3); // truncated, a header byte changed, empty: scanner errors on both sides
    // The stand-ins a browser has instead of files and workers refuse, never pretend.
    expect(() => web.fileSource('/etc/passwd')).toThrow(/no file access/);
    expect(() => new web.ReceiptVerifyPool()).toThrow(/no worker pool/);
  });

  it('exports what index.ts exports, minus the file APIs', async () => {
    const node = await import('../../../packages/evidencepack/src/index.ts');
    const web = await import('../../../packages/evidencepack/src/browser.ts');
    const fileApis = ['verifyEvidencePackFile', 'writeEvidencePackFile'];
    expect(Object.keys(web).sort()).toEqual(
      Object.keys(node)
        .filter((k) => !fileApis.includes(k))
        .sort(),
    );
  });
});
