import type { ReasonCode } from '@helm/contracts/reason-codes';
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
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a CryptoError (optionally with the given code). */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}

/** Reason codes (docs/spec/reason-codes.md) a crypto failure maps to at a kernel boundary. */
export type CryptoReasonCode = Extract<
  ReasonCode,
  | 'SIGNATURE_INVALID'
  | 'TRUST_KEY_UNKNOWN'
  | 'ENVELOPE_INVALID'
  | 'KEY_INVALID'
  | 'ARGS_MALFORMED'
  | 'INTERNAL_ERROR'
>;

const REASON_BY_CODE: Readonly<Record<CryptoErrorCode, CryptoReasonCode>> = {
  JCS_UNSUPPORTED_VALUE: 'ARGS_MALFORMED',
  JCS_NON_FINITE_NUMBER: 'ARGS_MALFORMED',
  JCS_LONE_SURROGATE: 'ARGS_MALFORMED',
  JCS_CYCLE: 'ARGS_MALFORMED',
  JCS_TOO_DEEP: 'ARGS_MALFORMED',
  JSON_PARSE_ERROR: 'ARGS_MALFORMED',
  JSON_DUPLICATE_KEY: 'ARGS_MALFORMED',
  JSON_LONE_SURROGATE: 'ARGS_MALFORMED',
  JSON_NUMBER_OUT_OF_RANGE: 'ARGS_MALFORMED',
  JSON_TOO_DEEP: 'ARGS_MALFORMED',
  JSON_TOO_LARGE: 'ARGS_MALFORMED',
  KEY_INVALID: 'KEY_INVALID',
  KEY_ENCODING_INVALID: 'KEY_INVALID',
  SIGNATURE_MALFORMED: 'SIGNATURE_INVALID',
  SIGNER_FAILED: 'INTERNAL_ERROR',
  ENVELOPE_MALFORMED: 'ENVELOPE_INVALID',
  ENVELOPE_TYPE_MISMATCH: 'ENVELOPE_INVALID',
  ENVELOPE_NOT_CANONICAL: 'ENVELOPE_INVALID',
  ENVELOPE_SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  ENVELOPE_KEY_UNKNOWN: 'TRUST_KEY_UNKNOWN',
  ENVELOPE_THRESHOLD_NOT_MET: 'SIGNATURE_INVALID',
};

/**
 * The reason code for an error thrown by @helm/crypto. JCS/JSON errors map to ARGS_MALFORMED
 * (the usual context is untrusted arguments; inside `verifyEnvelope` payload problems already
 * surface as ENVELOPE_* codes). Anything that is not a CryptoError is INTERNAL_ERROR: fail closed.
 */
export function reasonCodeFor(error: unknown): CryptoReasonCode {
  return error instanceof CryptoError ? REASON_BY_CODE[error.code] : 'INTERNAL_ERROR';
}
