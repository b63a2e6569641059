import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package. jco-worker.ts runs inside a worker thread, where coverage cannot see it — every
// test that registers or runs a component goes through it. `**/runtime-sandbox/**`: vitest's
// coverage root test is a path prefix, so packages/runtime-sandbox would count as ours.
// The gate is at 55% only while the runtime-level tests move here from apps/cli (whose end-to-end
// tests exercise this code but count for the CLI); issue #17 raises it to 85%.
export default helmVitestConfig({
  threshold: 55,
  testTimeout: 120_000,
  coverageExclude: ['src/internal/jco-worker.ts', '**/runtime-sandbox/**'],
});
