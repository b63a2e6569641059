// Entry point `@helm/trust/tuf`: the TUF 1.0 trusted-metadata set (docs/spec/tuf-client.md) — it
// verifies metadata bytes against what is already trusted, and decides each step of a target
// search and each downloaded target — plus the names it hands to the ports. Pure: no I/O, no
// clock. The update loop that fetches and caches (`TufClient`, `TrustDistribution`) is
// `@helm/tuf-client`, outside the TCB. Kept out of `@helm/trust` so that importing the registry
// does not load `@tufjs/models`.
export type { TufErrorCode } from './errors.js';
export { checkVersionForName, encodeRoleName, metadataFileName, targetFileName } from './tuf/names.js';
export {
  type TufDelegationStep,
  type TufRootStep,
  type TufTargetInfo,
  TufTrustedMetadataSet,
  targetSearchStep,
  verifyTarget,
} from './tuf/trusted-set.js';
