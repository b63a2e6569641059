import { helmVitestConfig } from '../../vitest.shared.ts';

// src/cli.ts is the four-line process wrapper around main(); `pnpm tcb:check` runs it in `make test`.
export default helmVitestConfig({ coverageExclude: ['src/cli.ts'] });
