import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package. jco-worker.ts and plugin-worker.ts run inside worker threads, where coverage
// cannot see them — every test that registers or runs a component or a plugin goes through them.
export default helmVitestConfig({
  threshold: 80,
  testTimeout: 120_000,
  coverageExclude: ['src/jco-worker.ts', 'src/internal/jco-worker.ts', 'src/internal/plugin-worker.ts'],
});
