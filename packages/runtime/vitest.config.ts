import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package. jco-worker.ts runs inside a worker thread, where coverage cannot see it — every
// test that registers or runs a component goes through it.
export default helmVitestConfig({
  threshold: 80,
  testTimeout: 120_000,
  coverageExclude: ['src/jco-worker.ts', 'src/internal/jco-worker.ts'],
});
