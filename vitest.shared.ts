// Shared vitest configuration for every workspace package.
// Workspace imports (`@helm/<pkg>` and its subpaths, e.g. `@helm/crypto/envelope`) resolve to the
// package's TypeScript sources so tests never depend on a stale build, and so that a class reached
// through a subpath and through `.` is one class (one module instance, `instanceof` holds); coverage is V8 (vitest's own provider, which sees its worker threads,
// unlike a c8 wrapper around the parent process) with a 90% gate per package.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export const COVERAGE_THRESHOLD = 90;

/** `@helm/<pkg>/<subpath>` → source file, from each workspace package's `exports` map. */
function subpathAliases(): { find: RegExp; replacement: string }[] {
  const out: { find: RegExp; replacement: string }[] = [];
  for (const dir of readdirSync(`${root}packages`)) {
    let manifest: { name?: string; exports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(`${root}packages/${dir}/package.json`, 'utf8'));
    } catch {
      continue;
    }
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const js = (target as { import?: unknown } | null)?.import;
      if (subpath === '.' || typeof js !== 'string' || !js.startsWith('./dist/')) continue;
      const source = js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      const name = `${manifest.name}${subpath.slice(1)}`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      out.push({ find: new RegExp(`^${name}$`), replacement: `${root}packages/${dir}/${source}` });
    }
  }
  return out;
}

/**
 * Package-internal `#name` imports (package.json "imports", e.g. @helm/crypto's `#platform`) → the
 * source of their Node (`default`) target, so tests run the sources here too; the `browser` targets
 * are exercised by the console's browser tests. A name may be defined by one package only.
 */
function internalImportAliases(): { find: RegExp; replacement: string }[] {
  const out = new Map<string, string>();
  for (const dir of readdirSync(`${root}packages`)) {
    let manifest: { imports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(`${root}packages/${dir}/package.json`, 'utf8'));
    } catch {
      continue;
    }
    for (const [name, target] of Object.entries(manifest.imports ?? {})) {
      const js = (target as { default?: unknown } | null)?.default;
      if (typeof js !== 'string' || !js.startsWith('./dist/')) continue;
      if (out.has(name)) throw new Error(`package import ${name} is defined by two packages`);
      out.set(name, `${root}packages/${dir}/${js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')}`);
    }
  }
  return [...out].map(([name, replacement]) => ({
    find: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
    replacement,
  }));
}

export interface HelmVitestOptions {
  /** Coverage threshold (percent) for lines, branches, functions and statements. */
  threshold?: number;
  /** Source globs excluded from coverage (e.g. worker entry files measured elsewhere); justify each. */
  coverageExclude?: string[];
  /** Per-test timeout in ms (default 20 s; tests assert behaviour, not speed). */
  testTimeout?: number;
}

export function helmVitestConfig(options: HelmVitestOptions = {}): ViteUserConfig {
  const threshold = options.threshold ?? COVERAGE_THRESHOLD;
  return defineConfig({
    resolve: {
      alias: [
        ...subpathAliases(),
        ...internalImportAliases(),
        // The one workspace package outside packages/: the server app, which the CLI's `serve` uses.
        { find: /^@helm\/server$/, replacement: `${root}apps/server/src/index.ts` },
        { find: /^@helm\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      ],
    },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 20_000,
      pool: 'threads',
      coverage: {
        provider: 'v8',
        include: ['src/**/*.ts'],
        exclude: ['src/**/*.d.ts', ...(options.coverageExclude ?? [])],
        reporter: ['text-summary', 'json-summary'],
        thresholds: { lines: threshold, branches: threshold, functions: threshold, statements: threshold },
      },
    },
  });
}
