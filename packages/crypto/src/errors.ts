import type { ReasonCode } from '@helm/contracts/reason-codes';

/**
 * Every error code of @helm/crypto with the reason code (docs/spec/reason-codes.md) it maps to at a
 * kernel boundary: the closed code set and the mapping, defined once. JCS/JSON errors map to
 * ARGS_MALFORMED (the usual context is untrusted arguments; inside `verifyEnvelope` payload
 * problems already surface as ENVELOPE_* codes).
 */
const REASON_BY_CODE = {
  // canonicalization (RFC 8785 JCS)
  JCS_UNSUPPORTED_VALUE: 'ARGS_MALFORMED',
  JCS_NON_FINITE_NUMBER: 'ARGS_MALFORMED',
  JCS_LONE_SURROGATE: 'ARGS_MALFORMED',
  JCS_CYCLE: 'ARGS_MALFORMED',
  JCS_TOO_DEEP: 'ARGS_MALFORMED',
  // strict JSON parsing of untrusted text
  JSON_PARSE_ERROR: 'ARGS_MALFORMED',
  JSON_DUPLICATE_KEY: 'ARGS_MALFORMED',
  JSON_LONE_SURROGATE: 'ARGS_MALFORMED',
  JSON_NUMBER_OUT_OF_RANGE: 'ARGS_MALFORMED',
  JSON_TOO_DEEP: 'ARGS_MALFORMED',
  JSON_TOO_LARGE: 'ARGS_MALFORMED',
  // keys and signatures
  KEY_INVALID: 'KEY_INVALID',
  KEY_ENCODING_INVALID: 'KEY_INVALID',
  SIGNATURE_MALFORMED: 'SIGNATURE_INVALID',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  SIGNER_FAILED: 'INTERNAL_ERROR',
  // envelopes
  ENVELOPE_MALFORMED: 'ENVELOPE_INVALID',
  ENVELOPE_TYPE_MISMATCH: 'ENVELOPE_INVALID',
  ENVELOPE_NOT_CANONICAL: 'ENVELOPE_INVALID',
  ENVELOPE_SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  ENVELOPE_KEY_UNKNOWN: 'TRUST_KEY_UNKNOWN',
  ENVELOPE_THRESHOLD_NOT_MET: 'SIGNATURE_INVALID',
} as const satisfies Record<string, ReasonCode>;

/** Closed set of error codes raised by @helm/crypto. Match on `code`, never on the message. */
export type CryptoErrorCode = keyof typeof REASON_BY_CODE;

/** Every CryptoErrorCode, as data. */
export const CRYPTO_ERROR_CODES: readonly CryptoErrorCode[] = Object.freeze(
  Object.keys(REASON_BY_CODE) as CryptoErrorCode[],
);

/** Reason codes a crypto failure maps to at a kernel boundary. */
export type CryptoReasonCode = (typeof REASON_BY_CODE)[CryptoErrorCode] | 'INTERNAL_ERROR';

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

/**
 * The reason code for an error thrown by @helm/crypto. Anything that is not a CryptoError is
 * INTERNAL_ERROR: fail closed.
 */
export function reasonCodeFor(error: unknown): CryptoReasonCode {
  return error instanceof CryptoError ? REASON_BY_CODE[error.code] : 'INTERNAL_ERROR';
}
