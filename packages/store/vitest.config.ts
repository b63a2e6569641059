import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package, gated at 90% like the TCB (the crash test's child process is not measured).
export default helmVitestConfig({ threshold: 90, testTimeout: 60_000 });
