import type { ReasonCode } from '@helm/contracts/reason-codes';

/** Why a sandbox API call (not a guest run) was refused. */
export type SandboxErrorCode =
  | 'SANDBOX_INVALID_MODULE'
  | 'SANDBOX_VIOLATION'
  | 'SANDBOX_UNKNOWN_MODULE'
  | 'SANDBOX_INVALID_ARGUMENT'
  | 'SANDBOX_CLOSED'
  | 'SANDBOX_OUTPUT_INVALID';

const REASONS: Readonly<Record<SandboxErrorCode, ReasonCode>> = {
  SANDBOX_INVALID_MODULE: 'SANDBOX_INVALID_MODULE',
  SANDBOX_VIOLATION: 'SANDBOX_VIOLATION',
  SANDBOX_UNKNOWN_MODULE: 'SANDBOX_INVALID_MODULE',
  SANDBOX_INVALID_ARGUMENT: 'INTERNAL_ERROR',
  SANDBOX_CLOSED: 'INTERNAL_ERROR',
  SANDBOX_OUTPUT_INVALID: 'SANDBOX_OUTPUT_INVALID',
};

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  /** The registry reason code a caller should deny with. */
  readonly reason: ReasonCode;

  constructor(code: SandboxErrorCode, message: string) {
    super(message);
    this.name = 'SandboxError';
    this.code = code;
    this.reason = REASONS[code];
  }
}
