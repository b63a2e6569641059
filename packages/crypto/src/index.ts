// Public API of @helm/crypto: the union of its subpath entry points. Every module re-exported with
// `export *` is itself an entry point (package.json `exports`), so its exports are public either
// way; `pnpm api:update` records the resulting surface in etc/api-report.md. `canonicalMemberTexts`
// (for fast/) is public only at `@helm/crypto/jcs`, so the root lists the jcs names it takes.
export type { JsonValue } from '@helm/contracts/wire';
export * from './digests.js';
export * from './ed25519.js';
export * from './ed25519-backends.js';
export * from './ed25519-sign.js';
export * from './encoding.js';
export * from './envelope.js';
export * from './envelope-sign.js';
export * from './errors.js';
export * from './hash.js';
export { canonicalBytes, canonicalize, JCS_MAX_DEPTH } from './jcs.js';
export * from './json.js';
export * from './keyring.js';
