import { helmVitestConfig } from '../../vitest.shared.ts';

// Non-TCB package, gated at 90% like @helm/store. Every test file runs against a real PostgreSQL
// server (test/harness.ts) in a database of its own.
export default helmVitestConfig({ threshold: 90, testTimeout: 30_000 });
