// Public API of @helm/trust: the event-sourced key registry, TUF distribution over injected ports,
// and Sigstore / Rekor / SLSA verification. See README.md and docs/spec/trust-*.md.
// `@helm/trust/verify` (verify.ts) is the registry verifier alone, without authoring or TUF.

/** `(keyid, role, seq) => key | undefined`, the one key-lookup shape of HELM (`TrustRegistry#keyLookup`). */
export type { RoleKeyLookup } from '@helm/contracts/wire';
export {
  type KeyValidityCode,
  type RegistryErrorCode,
  reasonCodeFor,
  type SigstoreErrorCode,
  type SlsaErrorCode,
  type SupplyChainErrorCode,
  TrustError,
  type TrustErrorCode,
  type TufErrorCode,
} from './errors.js';
export {
  commitTrustEvent,
  createGenesisEvent,
  type GenesisParams,
  prepareTrustEvent,
  type TrustChange,
  trustKeyRef,
} from './registry/authoring.js';
export { parseTrustEvent, trustEventDigest } from './registry/event.js';
export {
  defaultRoleMapping,
  type KeyValidity,
  type RegistryEnvelopeCheck,
  type RegistryLoadOptions,
  TrustRegistry,
} from './registry/registry.js';
export { exportTrustSnapshot, importTrustSnapshot } from './registry/snapshot.js';
export {
  type CheckpointAnchor,
  ed25519PublicKeyPem,
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
