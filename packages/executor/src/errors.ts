// Configuration-time errors of @helm/executor. Per-call failures never throw: they become a signed
// receipt with a reason code (see docs/spec/pipeline.md). Match on `code`, never on the message.

export type ExecutorErrorCode =
  | 'TOOL_DESCRIPTOR_INVALID'
  | 'TOOL_ALREADY_REGISTERED'
  | 'TOOL_UNKNOWN'
  | 'SCHEMA_INVALID'
  | 'DRIVER_BINDING_MISMATCH'
  | 'REPIN_MISMATCH'
  | 'CONFIG_INVALID'
  | 'REQUEST_INVALID';

export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
  readonly code: ExecutorErrorCode;
  constructor(code: ExecutorErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
