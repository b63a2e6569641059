// CLI outcomes and errors. Exit codes: 0 ok, 1 a check failed or the call was denied, 2 usage or
// internal error. User errors carry a hint and never print a stack trace.
import { RuntimeError, type RuntimeErrorCode } from '@helm/runtime';

/**
 * A CLI-side error: the runtime's codes (the CLI adds no codes of its own; `USAGE` is a bad option or
 * argument). A subclass of RuntimeError so that one `instanceof RuntimeError` check covers both.
 */
export class CliError extends RuntimeError {
  constructor(code: RuntimeErrorCode, message: string, hint?: string) {
    super(code, message, hint);
    this.name = 'CliError';
  }
}

/** What every command returns: a machine-readable body, human lines, and the exit code. */
export interface CommandResult {
  readonly exitCode: 0 | 1 | 2;
  readonly json: Record<string, unknown>;
  readonly human: readonly string[];
}

export function ok(json: Record<string, unknown>, human: readonly string[]): CommandResult {
  return { exitCode: 0, json: { ok: true, ...json }, human };
}

export function failed(json: Record<string, unknown>, human: readonly string[]): CommandResult {
  return { exitCode: 1, json: { ok: false, ...json }, human };
}

export function errorResult(error: unknown): CommandResult {
  if (error instanceof RuntimeError) {
    return {
      exitCode: 2,
      json: {
        ok: false,
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      },
      human: [`error: ${error.message}`, ...(error.hint ? [`hint: ${error.hint}`] : [])],
    };
  }
  const e = error as { code?: unknown; message?: unknown; stack?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'INTERNAL';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return {
    exitCode: 2,
    json: { ok: false, error: { code, message } },
    human: [
      `error (${code}): ${message}`,
      'hint: this looks like a bug or a broken data directory; rerun with HELM_DEBUG=1 for details',
      ...(process.env.HELM_DEBUG && typeof e?.stack === 'string' ? [e.stack] : []),
    ],
  };
}
