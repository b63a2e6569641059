// The console's tests drive real Chromium against a real `helmts serve`; they run from the sources
// of the workspace packages (shared aliases) and need no coverage gate (the page code is measured
// by what the browser tests exercise, not by V8 in Node).
import { defineConfig, mergeConfig } from 'vitest/config';
import { helmVitestConfig } from '../../vitest.shared.ts';

export default mergeConfig(
  helmVitestConfig({ testTimeout: 90_000 }),
  defineConfig({ test: { fileParallelism: false, hookTimeout: 120_000 } }),
);
