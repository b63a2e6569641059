// The server's typed errors: a closed union of codes, each with its HTTP status. Every error
// answer is `{ "error": { "code", "message", "hint"? } }` — never a stack trace.

export type ServeErrorCode =
  | 'USAGE'
  | 'BAD_REQUEST'
  | 'JSON_INVALID'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'IDENTITY_MISMATCH'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'TOO_LARGE'
  | 'RATE_LIMITED'
  | 'REFUSED'
  | 'STORE_UNAVAILABLE'
  | 'NODE_REFUSED'
  | 'NOT_READY'
  | 'SHUTTING_DOWN'
  | 'REQUEST_TIMEOUT'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

export const STATUS: Readonly<Record<ServeErrorCode, number>> = {
  USAGE: 400,
  BAD_REQUEST: 400,
  JSON_INVALID: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  IDENTITY_MISMATCH: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  REFUSED: 409,
  STORE_UNAVAILABLE: 503,
  NODE_REFUSED: 503,
  NOT_READY: 503,
  SHUTTING_DOWN: 503,
  REQUEST_TIMEOUT: 408,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

export class ServeError extends Error {
  readonly code: ServeErrorCode;
  readonly hint: string | undefined;
  constructor(code: ServeErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'ServeError';
    this.code = code;
    this.hint = hint;
  }
  get status(): number {
    return STATUS[this.code];
  }
  toJSON(): { error: { code: string; message: string; hint?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }
}
