/** Closed set of error codes raised by @helm/crypto. Match on `code`, never on the message. */
export type CryptoErrorCode =
  // canonicalization (RFC 8785 JCS)
  | 'JCS_UNSUPPORTED_VALUE'
  | 'JCS_NON_FINITE_NUMBER'
  | 'JCS_LONE_SURROGATE'
  | 'JCS_CYCLE'
  | 'JCS_TOO_DEEP'
  // strict JSON parsing of untrusted text
  | 'JSON_PARSE_ERROR'
  | 'JSON_DUPLICATE_KEY'
  | 'JSON_LONE_SURROGATE'
  | 'JSON_NUMBER_OUT_OF_RANGE'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_LARGE'
  // keys and signatures
  | 'KEY_INVALID'
  | 'KEY_ENCODING_INVALID'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNER_FAILED'
  // envelopes
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_TYPE_MISMATCH'
  | 'ENVELOPE_NOT_CANONICAL'
  | 'ENVELOPE_SIGNATURE_INVALID'
  | 'ENVELOPE_KEY_UNKNOWN'
  | 'ENVELOPE_THRESHOLD_NOT_MET';

/** Every CryptoErrorCode, as data. */
export const CRYPTO_ERROR_CODES: readonly CryptoErrorCode[] = Object.freeze([
  'JCS_UNSUPPORTED_VALUE',
  'JCS_NON_FINITE_NUMBER',
  'JCS_LONE_SURROGATE',
  'JCS_CYCLE',
  'JCS_TOO_DEEP',
  'JSON_PARSE_ERROR',
  'JSON_DUPLICATE_KEY',
  'JSON_LONE_SURROGATE',
  'JSON_NUMBER_OUT_OF_RANGE',
  'JSON_TOO_DEEP',
  'JSON_TOO_LARGE',
  'KEY_INVALID',
  'KEY_ENCODING_INVALID',
  'SIGNATURE_MALFORMED',
  'SIGNER_FAILED',
  'ENVELOPE_MALFORMED',
  'ENVELOPE_TYPE_MISMATCH',
  'ENVELOPE_NOT_CANONICAL',
  'ENVELOPE_SIGNATURE_INVALID',
  'ENVELOPE_KEY_UNKNOWN',
  'ENVELOPE_THRESHOLD_NOT_MET',
] as const);

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** True when `error` is a CryptoError (optionally with the given code). */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
