import { helmVitestConfig } from '../../vitest.shared.ts';

export default helmVitestConfig({
  // src/internal/worker.ts is the worker-thread entry: it only runs inside the threads the pool
  // spawns, which the test runner's V8 coverage cannot observe. Its whole body is a message loop
  // around runGuest (covered in-process by test/guest-run.test.ts) and it is exercised end to end
  // by test/sandbox.test.ts, whose assertions fail if it misbehaves.
  coverageExclude: ['src/internal/worker.ts'],
  testTimeout: 30_000,
});
