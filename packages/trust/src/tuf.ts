// Entry point `@helm/trust/tuf`: the TUF 1.0 client over injected ports and the trust-registry
// distribution built on it (docs/spec/tuf-client.md). Kept out of `@helm/trust` so that importing
// the registry does not load `@tufjs/models`.
export type { TufErrorCode } from './errors.js';
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
