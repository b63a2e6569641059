import { isBuiltin } from 'node:module';

/** Built-ins a TCB package may import without an allowlist entry: pure computation, no I/O. */
export const SAFE_BUILTINS: ReadonlySet<string> = new Set([
  'assert',
  'assert/strict',
  'buffer',
  'events',
  'punycode',
  'querystring',
  'stream',
  'stream/consumers',
  'stream/promises',
  'stream/web',
  'string_decoder',
  'util',
  'util/types',
]);

/** Built-ins that perform I/O, load code or expose the process (named in the message). */
export const IO_OR_CODE_BUILTINS: ReadonlySet<string> = new Set([
  'child_process',
  'cluster',
  'dgram',
  'dns',
  'dns/promises',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'inspector/promises',
  'module',
  'net',
  'os',
  'process',
  'readline',
  'readline/promises',
  'repl',
  'sea',
  'sqlite',
  'test',
  'tls',
  'trace_events',
  'tty',
  'v8',
  'vm',
  'wasi',
  'worker_threads',
]);

/** The built-in module name of a specifier (`node:fs/promises` → `fs/promises`), or undefined. */
export function builtinName(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return specifier.slice(5);
  return isBuiltin(specifier) ? specifier : undefined;
}
