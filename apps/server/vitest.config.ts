import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB: tests run, coverage is reported but not gated at the TCB threshold.
export default helmVitestConfig({ threshold: 0, testTimeout: 120_000 });
