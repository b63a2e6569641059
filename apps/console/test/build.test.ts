// I-CONSOLE-5. The bundle is deterministic and current: building the sources again (into a temporary
// directory, same config) gives exactly the files in @helm/server's dist/console/ that `make build`
// produced and `helmts serve` serves (and `pnpm pack` ships) — same names, same bytes. A stale or
// nondeterministic build fails here.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'vite';
import { expect, it } from 'vitest';

const here = new URL('..', import.meta.url).pathname;

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else
        out[relative(dir, full)] = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

it('a second build of the sources is byte-identical to @helm/server dist/console/', async () => {
  const out = await mkdtemp(join(tmpdir(), 'helm-console-build-'));
  try {
    await build({
      root: here,
      configFile: join(here, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir: out, emptyOutDir: true },
    });
    const fresh = await digests(out);
    expect(Object.keys(fresh).length).toBeGreaterThanOrEqual(3);
    expect(await digests(join(here, '../server/dist/console'))).toEqual(fresh);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);
