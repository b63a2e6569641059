// Public API of @helm/trust: the event-sourced key registry and its authoring. See README.md and
// docs/spec/trust-*.md. The registry verifier comes from its entry point (`@helm/trust/verify`,
// verify.ts), so the root surface is that one plus authoring. TUF (`@helm/trust/tuf`) and the
// supply-chain verifiers (`@helm/trust/sigstore`) have their own entry points, so importing the
// registry does not load tuf-js or Sigstore code.
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
export * from './verify.js';
