#!/usr/bin/env node
import * as nodeModule from 'node:module';

// Loading the TypeScript compiler dominates start-up; V8's code cache makes repeated runs faster.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('./main.js');

process.exitCode = main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  cwd: process.cwd(),
});
