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

/** The typed errors of the HELM packages: refusals with a stable code, not bugs. */
const HELM_ERRORS = new Set([
  'CryptoError',
  'EvidencePackError',
  'ExecutorError',
  'GuardianError',
  'ProofGraphError',
  'ReceiptError',
  'SandboxError',
  'StoreError',
  'TrustError',
]);

const BUG_HINT = 'this looks like a bug; rerun with HELM_DEBUG=1 for the stack and report it';

/**
 * An error as the user sees it. Hints only where the user can act: a RuntimeError carries its own
 * (the internal-error hint only for INTERNAL); a file-system error names the path; a typed refusal
 * of a HELM package keeps its code and message; only what is none of these is INTERNAL, with the
 * "looks like a bug" hint.
 */
export function errorResult(error: unknown): CommandResult {
  const result = (code: string, message: string, hint: string | undefined, extra: string[] = []) => ({
    exitCode: 2 as const,
    json: { ok: false, error: { code, message, ...(hint ? { hint } : {}) } },
    human: [`error: ${message}`, ...(hint ? [`hint: ${hint}`] : []), ...extra],
  });
  const e = error as {
    code?: unknown;
    message?: unknown;
    stack?: unknown;
    name?: unknown;
    syscall?: unknown;
    path?: unknown;
  };
  const stack = process.env.HELM_DEBUG && typeof e?.stack === 'string' ? [e.stack] : [];
  if (error instanceof RuntimeError) {
    const hint = error.hint ?? (error.code === 'INTERNAL' ? BUG_HINT : undefined);
    return result(error.code, error.message, hint, error.code === 'INTERNAL' ? stack : []);
  }
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // A system call on a path (read, write, open, …): the path and the system's reason.
  if (typeof e?.syscall === 'string' && typeof e?.code === 'string') {
    const path = typeof e.path === 'string' ? e.path : undefined;
    const missing = e.code === 'ENOENT' || e.code === 'ENOTDIR';
    return result(
      missing ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      message,
      path === undefined
        ? 'check the paths given and their permissions'
        : `check ${path}${missing ? ' exists' : ': its permissions and the free space of its file system'}`,
    );
  }
  if (typeof e?.name === 'string' && HELM_ERRORS.has(e.name) && typeof e.code === 'string')
    return result(e.code, `${message} (${e.name})`, undefined);
  const code = typeof e?.code === 'string' ? e.code : 'INTERNAL';
  return result(code, `(${code}) ${message}`, BUG_HINT, stack);
}
