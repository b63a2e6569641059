// What running `helmts` does once the CLI's code is loaded, shared by dist/bin.js (ESM, the unbundled
// build) and the bundle (scripts/bundle.mjs, a classic script loaded by dist/code-cache.cjs, where
// top-level await is not available): the exit code is main's, set when it settles.
import { main } from './main.js';

export function start(argv: readonly string[]): Promise<void> {
  // A closed pipe (e.g. `helm ... | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  return main(argv).then((code) => {
    process.exitCode = code;
  });
}
