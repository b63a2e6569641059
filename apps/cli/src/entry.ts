// What running `helmts` does once the CLI's code is loaded, shared by dist/bin.js (ESM, the unbundled
// build) and the bundle (scripts/bundle.mjs, a classic script loaded by dist/code-cache.cjs, where
// top-level await is not available): the exit code is main's, set when it settles.
import { main, wantedCommand } from './main.js';

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

/**
 * The top-level command `argv` names ('' for a bare `--version`), for the bundle's code cache, which
 * records the commands whose functions it holds (dist/code-cache.cjs): one name a line, so anything
 * else (an operand that is not a command name) is '*'.
 */
export function commandOf(argv: readonly string[]): string {
  const wanted = wantedCommand(argv);
  return wanted !== undefined && /^[a-z0-9-]{0,32}$/.test(wanted) ? wanted : '*';
}
