// Public API of @helm/tuf-client (not part of the TCB): the TUF 1.0 update loop over injected
// ports, and the trust-registry distribution built on it (docs/spec/tuf-client.md). Everything it
// returns was verified by the TCB's trusted-metadata set (`@helm/trust/tuf`).
export type { TufErrorCode, TufTargetInfo } from '@helm/trust/tuf';
export {
  DEFAULT_TUF_LIMITS,
  TufClient,
  type TufClientOptions,
  type TufLimits,
  type TufRefreshResult,
} from './client.js';
export { TrustDistribution } from './distribution.js';
export {
  InMemoryTufMetadataCache,
  type TufClock,
  type TufFetcher,
  type TufMetadataCache,
} from './ports.js';
