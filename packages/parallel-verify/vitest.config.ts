import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB, but gated at 90% like the TCB. src/worker.ts is excluded: it runs inside worker threads
// that V8 coverage of the test process does not see; it is a three-line adapter around
// verifyReceiptSignatures (covered by @helm/receipts' tests) and every test here exercises it.
export default helmVitestConfig({ threshold: 90, coverageExclude: ['src/worker.ts'], testTimeout: 60_000 });
