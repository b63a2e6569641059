// Entry point `@helm/trust/verify`: the trust registry verifier — load or import a signed history
// from an anchored genesis, then answer which key held which role at each sequence number. Its
// import closure holds no authoring (signing), TUF or Sigstore code (docs/AUDIT.md §2); those are
// in `@helm/trust`.

/** `(keyid, role, seq) => key | undefined`, the one key-lookup shape of HELM (`TrustRegistry#keyLookup`). */
export type { RoleKeyLookup } from '@helm/contracts/wire';
export {
  type KeyValidityCode,
  type RegistryErrorCode,
  reasonCodeFor,
  TrustError,
  type TrustErrorCode,
} from './errors.js';
export { trustEventDigest } from './registry/event.js';
export {
  defaultRoleMapping,
  type KeyValidity,
  type RegistryEnvelopeCheck,
  type RegistryLoadOptions,
  TrustRegistry,
} from './registry/registry.js';
export { importTrustSnapshot } from './registry/snapshot.js';
