/** Why tcb-check could not run at all (exit code 2), as opposed to finding violations (exit code 1). */
export type TcbCheckErrorCode = 'usage' | 'workspace' | 'policy' | 'lockfile' | 'io';

export class TcbCheckError extends Error {
  readonly code: TcbCheckErrorCode;
  constructor(code: TcbCheckErrorCode, message: string) {
    super(message);
    this.name = 'TcbCheckError';
    this.code = code;
  }
}
