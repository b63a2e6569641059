import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB, gated at 90% like the TCB. src/child.ts is excluded: it is the entry of the child
// processes, which the test runner's V8 coverage cannot observe; it relays IPC messages to the
// TCB's threadIsolation (covered by @helm/runtime-sandbox's tests) and every test here runs it.
export default helmVitestConfig({ threshold: 90, coverageExclude: ['src/child.ts'], testTimeout: 30_000 });
