// Shared vitest configuration for every workspace package.
// Workspace imports (`@helm/<pkg>`) resolve to the package's TypeScript sources so tests never
// depend on a stale build; coverage is V8 (vitest's own provider, which sees its worker threads,
// unlike a c8 wrapper around the parent process) with a 90% gate per package.
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export const COVERAGE_THRESHOLD = 90;

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
      alias: [{ find: /^@helm\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` }],
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
