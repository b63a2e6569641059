// Typed errors of @helm/guardian. Callers branch on `code`, never on the message.

export type GuardianErrorCode =
  | 'CONFIG_INVALID'
  | 'POLICY_BUNDLE_INVALID'
  | 'DELEGATION_INVALID'
  | 'DELEGATION_SCOPE_VIOLATION'
  | 'APPROVAL_INVALID'
  | 'APPROVAL_TIMEOUT'
  | 'APPROVAL_RATE_LIMITED'
  | 'BUDGET_EXCEEDED'
  | 'BUDGET_RESERVATION_UNKNOWN';

export class GuardianError extends Error {
  readonly code: GuardianErrorCode;
  constructor(code: GuardianErrorCode, message: string) {
    super(message);
    this.name = 'GuardianError';
    this.code = code;
  }
}
