import { helmVitestConfig } from '../../vitest.shared.ts';

// The CLI's gate is not vitest's: `pnpm test` runs scripts/app-coverage.mjs, which merges this
// in-process V8 coverage with the raw coverage of every `helmts` process the tests spawn
// (NODE_V8_COVERAGE, reported by c8 through dist's source maps) and gates lines at 85%
// (DECISIONS "c8"). The threshold here only applies to a bare `vitest run --coverage`.
export default helmVitestConfig({ threshold: 80, testTimeout: 120_000 });
