import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package: gated at 85% (the crash test's child process is measured in its own process).
export default helmVitestConfig({ threshold: 85, testTimeout: 60_000 });
