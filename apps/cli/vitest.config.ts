import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB app: gated at 80% (bin.ts is a two-line entry point exercised by the built-CLI runs).
export default helmVitestConfig({ threshold: 80, testTimeout: 120_000, coverageExclude: ['src/bin.ts'] });
