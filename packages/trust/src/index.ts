// Public API of @helm/trust: the event-sourced key registry, TUF distribution over injected ports,
// and Sigstore / Rekor / SLSA verification. See README.md and docs/spec/trust-*.md.
// The registry verifier comes from its entry point (`@helm/trust/verify`, verify.ts), so the root
// surface is that one plus authoring, TUF and the supply-chain verifiers.
export type {
  SigstoreErrorCode,
  SlsaErrorCode,
  SupplyChainErrorCode,
  TufErrorCode,
} from './errors.js';
export {
  commitTrustEvent,
  createGenesisEvent,
  type GenesisParams,
  prepareTrustEvent,
  type TrustChange,
  trustKeyRef,
} from './registry/authoring.js';
export { parseTrustEvent } from './registry/event.js';
export { exportTrustSnapshot } from './registry/snapshot.js';
export {
  type CheckpointAnchor,
  type HashedRekordBody,
  prepareCheckpointAnchor,
} from './sigstore/anchor.js';
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
export {
  DEFAULT_TUF_LIMITS,
  TufClient,
  type TufClientOptions,
  type TufLimits,
  type TufRefreshResult,
  type TufTargetInfo,
} from './tuf/client.js';
export { TrustDistribution } from './tuf/distribution.js';
export {
  InMemoryTufMetadataCache,
  type TufClock,
  type TufFetcher,
  type TufMetadataCache,
} from './tuf/ports.js';
export * from './verify.js';
