import { helmVitestConfig } from '../../vitest.shared.ts';

// src/cli.ts is the process wrapper around main(); `pnpm api:check` runs it in `make test`.
// Fixture repositories are packed with the real pnpm: allow for a loaded machine.
export default helmVitestConfig({ coverageExclude: ['src/cli.ts'], testTimeout: 60_000 });
