// Typed errors of @helm/trust. Match on `code` (closed union, stable API), never on the message.
// `reason` maps each code onto the closed reason-code registry of @helm/contracts.
import type { ReasonCode } from '@helm/contracts/reason-codes';

/** Answers of the key-validity query (also raised by verifiers that use it). */
export type KeyValidityCode = 'TRUST_KEY_UNKNOWN' | 'TRUST_KEY_REVOKED' | 'TRUST_ROLE_MISSING';

export type RegistryErrorCode =
  | KeyValidityCode
  | 'TRUST_EVENT_MALFORMED'
  | 'TRUST_EVENT_SIGNATURE_INVALID'
  | 'TRUST_EVENT_UNAUTHORIZED'
  | 'TRUST_EVENT_DUPLICATE'
  | 'TRUST_CHAIN_BROKEN'
  | 'TRUST_SEQUENCE_INVALID'
  | 'TRUST_GENESIS_INVALID'
  | 'TRUST_ANCHOR_MISMATCH'
  | 'TRUST_KEY_EXISTS'
  | 'TRUST_ROLE_CONFLICT'
  | 'TRUST_QUORUM_UNREACHABLE'
  | 'TRUST_SNAPSHOT_MALFORMED'
  | 'TRUST_SNAPSHOT_HASH_MISMATCH'
  | 'TRUST_SNAPSHOT_TRUNCATED';

export type TufErrorCode =
  | 'TUF_FETCH_FAILED'
  | 'TUF_METADATA_MISSING'
  | 'TUF_METADATA_MALFORMED'
  | 'TUF_METADATA_TOO_LARGE'
  | 'TUF_THRESHOLD_NOT_MET'
  | 'TUF_ROLLBACK'
  | 'TUF_EXPIRED'
  | 'TUF_VERSION_MISMATCH'
  | 'TUF_LENGTH_OR_HASH_MISMATCH'
  | 'TUF_TARGET_NOT_FOUND'
  | 'TUF_ROOT_ROTATION_LIMIT'
  | 'TUF_DELEGATION_LIMIT'
  | 'TUF_NOT_REFRESHED';

export type SupplyChainErrorCode =
  | 'SIGSTORE_BUNDLE_MALFORMED'
  | 'SIGSTORE_TRUST_ROOT_MALFORMED'
  | 'SIGSTORE_POLICY_INVALID'
  | 'SIGSTORE_TLOG_INVALID'
  | 'SIGSTORE_TIMESTAMP_INVALID'
  | 'SIGSTORE_CERTIFICATE_INVALID'
  | 'SIGSTORE_PUBLIC_KEY_INVALID'
  | 'SIGSTORE_SIGNATURE_INVALID'
  | 'SIGSTORE_IDENTITY_MISMATCH'
  | 'SIGSTORE_SUBJECT_MISMATCH'
  | 'SLSA_ENVELOPE_MALFORMED'
  | 'SLSA_SIGNATURE_INVALID'
  | 'SLSA_STATEMENT_MALFORMED'
  | 'SLSA_PREDICATE_TYPE_INVALID'
  | 'SLSA_SUBJECT_MISMATCH'
  | 'SLSA_BUILDER_MISMATCH'
  | 'SLSA_SOURCE_MISMATCH'
  | 'SLSA_BUILD_TYPE_UNSUPPORTED'
  | 'ANCHOR_INPUT_INVALID';

export type TrustErrorCode = RegistryErrorCode | TufErrorCode | SupplyChainErrorCode;

/** The failure codes of `verifySigstoreBundle`. */
export type SigstoreErrorCode = Extract<SupplyChainErrorCode, `SIGSTORE_${string}`>;
/** The failure codes of `verifySlsaProvenance`. */
export type SlsaErrorCode = Extract<SupplyChainErrorCode, `SLSA_${string}`>;

/** The reason code (docs/spec/reason-codes.md) a denial caused by `code` carries. */
export function reasonCodeFor(code: TrustErrorCode): ReasonCode {
  if (code === 'TRUST_KEY_UNKNOWN' || code === 'TRUST_KEY_REVOKED' || code === 'TRUST_ROLE_MISSING')
    return code;
  if (code.startsWith('TRUST_')) return 'TRUST_HISTORY_INVALID';
  if (code.startsWith('TUF_')) return 'TUF_METADATA_INVALID';
  if (code === 'ANCHOR_INPUT_INVALID') return 'SIGNATURE_INVALID';
  return 'ARTIFACT_PROVENANCE_INVALID';
}

export class TrustError extends Error {
  override readonly name = 'TrustError';
  readonly code: TrustErrorCode;
  readonly reason: ReasonCode;
  constructor(code: TrustErrorCode, message: string) {
    super(message);
    this.code = code;
    this.reason = reasonCodeFor(code);
  }
}

/**
 * `run()` as a verifier's answer: its value with `ok: true`, or the code and message of the
 * TrustError it threw when that code is one of the verifier's (`prefix`). Anything else it throws
 * propagates (a bug, not an input).
 */
export function asCheck<T extends object, C extends TrustErrorCode>(
  prefix: string,
  run: () => T,
): ({ readonly ok: true } & T) | { readonly ok: false; readonly code: C; readonly message: string } {
  try {
    return { ok: true, ...run() };
  } catch (error) {
    if (error instanceof TrustError && error.code.startsWith(prefix))
      return { ok: false, code: error.code as C, message: error.message };
    throw error;
  }
}
