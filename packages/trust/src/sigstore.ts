// Entry point `@helm/trust/sigstore`: offline Sigstore bundle, Rekor and SLSA provenance
// verification (a checkpoint's Rekor entry is prepared by @helm/interop, outside the TCB). Kept out
// of `@helm/trust` so that importing the registry does not load `@sigstore/*` (a process that only
// reads its trust registry, such as `helmts run`, starts without it).
export type { SigstoreErrorCode, SlsaErrorCode, SupplyChainErrorCode } from './errors.js';
export {
  IN_TOTO_PAYLOAD_TYPE,
  type SigstoreCheck,
  type SigstoreIdentity,
  type SigstoreVerification,
  type SigstoreVerifyOptions,
  verifySigstoreBundle,
} from './sigstore/bundle.js';
export {
  type DsseEnvelope,
  IN_TOTO_STATEMENT_V1,
  SLSA_BUILD_TYPES,
  SLSA_PROVENANCE_V1,
  type SlsaCheck,
  type SlsaExpectations,
  type SlsaKeyLookup,
  type SlsaSource,
  type SlsaVerification,
  verifySlsaProvenance,
} from './sigstore/slsa.js';
