import { helmVitestConfig } from '../../vitest.shared.ts';

// The server's gate is scripts/app-coverage.mjs (in-process + spawned processes, lines >= 85%),
// run by `pnpm test`; see apps/cli/vitest.config.ts.
export default helmVitestConfig({ threshold: 0, testTimeout: 120_000 });
