// CLI outcomes and errors. Exit codes: 0 ok, 1 a check failed or the call was denied, 2 usage or
// internal error. User errors carry a hint and never print a stack trace.
export type CliErrorCode =
  | 'USAGE'
  | 'DATA_DIR_MISSING'
  | 'DATA_DIR_EXISTS'
  | 'DATA_DIR_LOCKED'
  | 'FILE_NOT_FOUND'
  | 'INVALID_INPUT'
  | 'KEY_UNKNOWN'
  /** A key file whose seed is missing or malformed, or whose keyid/public_key are not its seed's (I-ROOT-2). */
  | 'KEY_FILE_MISMATCH'
  /** The trust registry does not let this key do this: unknown, revoked, rotated, or without the role (I-ROOT-2). */
  | 'KEY_NOT_VALID'
  /** A root-signed key operation aimed at a key holding `root`: root keys change only in a root ceremony (I-ROOT-2). */
  | 'KEY_IS_ROOT'
  /** A name from input (tool, key, module, chain id) that may not become a file name (I-DATADIR-1). */
  | 'NAME_INVALID'
  | 'DATA_DIR_UNSAFE'
  /** A descriptor, policy or data-dir file that is not strict RFC 8259 JSON (I-INPUT-1). */
  | 'JSON_INVALID'
  /** `tool register --component`: not a component, jco cannot transpile it, or the sandbox refuses it. */
  | 'COMPONENT_INVALID'
  /** A component importing wasi:filesystem, wasi:sockets, wasi:http or anything the host does not provide (I-SANDBOX-7). */
  | 'COMPONENT_IMPORT_DENIED'
  /** A registered component whose jco output no longer equals its pin or stored artifacts (I-SANDBOX-7). */
  | 'COMPONENT_PIN_MISMATCH'
  /** A root-signed operation found fewer root keys of the registry than its root threshold. */
  | 'ROOT_KEYS_INSUFFICIENT'
  | 'INTERNAL';

export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly hint: string | undefined;
  constructor(code: CliErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.hint = hint;
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
  if (error instanceof CliError) {
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
