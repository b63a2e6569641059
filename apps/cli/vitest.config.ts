import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB app: gated at 80% (bin.ts is a two-line entry point exercised by the built-CLI runs;
// jco-worker.ts runs inside a worker thread, where coverage cannot see it — every test that
// registers or runs a component goes through it).
export default helmVitestConfig({
  threshold: 80,
  testTimeout: 120_000,
  coverageExclude: ['src/bin.ts', 'src/jco-worker.ts'],
});
