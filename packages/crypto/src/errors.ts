/** Closed set of error codes raised by @helm/crypto. Match on `code`, never on the message. */
export type CryptoErrorCode =
  | 'JCS_UNSUPPORTED_VALUE'
  | 'JCS_NON_FINITE_NUMBER'
  | 'JCS_LONE_SURROGATE'
  | 'JCS_CYCLE'
  | 'JSON_PARSE_ERROR'
  | 'JSON_DUPLICATE_KEY'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_LARGE'
  | 'KEY_INVALID'
  | 'SIGNATURE_MALFORMED'
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_TYPE_MISMATCH'
  | 'ENVELOPE_NOT_CANONICAL'
  | 'ENVELOPE_SIGNATURE_INVALID'
  | 'ENVELOPE_KEY_UNKNOWN';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
