// I-CONSOLE-5. The published server serves the console: `pnpm pack` of @helm/server (the tarball npm would get)
// holds the built console in dist/console/, byte for byte the build the workspace serves, and a
// server started from the unpacked tarball — in a child Node process, its @helm/* dependencies
// linked from the workspace as an install would provide them — serves /console/ and its assets
// from inside the package, with the console's CSP.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { initCommand } from '../../cli/src/commands/index.ts';

const run = promisify(execFile);
const server = new URL('../../server/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'helm-console-packed-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill();
  rmSync(work, { recursive: true, force: true });
});

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

it('@helm/server packs the built console and serves /console/ from the installed tarball', async () => {
  await run('pnpm', ['pack', '--pack-destination', work], { cwd: server });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz')) as string;
  expect(tarball).toMatch(/^helm-server-.*\.tgz$/);
  await run('tar', ['-xzf', join(work, tarball), '-C', work]);
  const pkg = join(work, 'package');
  const shipped = files(join(pkg, 'dist', 'console'));
  expect(Object.keys(shipped)).toContain('index.html');
  expect(Object.keys(shipped).filter((f) => f.endsWith('.js'))).toHaveLength(1);
  expect(shipped).toEqual(files(join(server, 'dist', 'console')));

  symlinkSync(join(server, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  const home = join(work, 'home');
  initCommand(home);
  const script = `
    const { startHelmServer } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
    const s = await startHelmServer({ dataDir: ${JSON.stringify(home)}, port: 0 });
    process.stdout.write(s.url + '\\n');`;
  child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child?.stdout?.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolve(out.trim());
    });
    child?.on('exit', (code) => reject(new Error(`the packed server exited (${code}): ${stderr}`)));
  });

  const page = await fetch(`${base}/console/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  const html = await page.text();
  expect(html).toContain('<div id="app">');
  const script1 = /src="\/console\/(assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
  expect(script1).toBeDefined();
  const asset = await fetch(`${base}/console/${script1}`);
  expect(asset.status).toBe(200);
  const bytes = new Uint8Array(await asset.arrayBuffer());
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(shipped[script1]);
}, 120_000);
