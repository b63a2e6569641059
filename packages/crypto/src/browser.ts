// The browser entry of @helm/crypto (package.json "exports" → "." → "browser"). The same API as
// index.ts and the same modules, except that node:crypto is not there: through package.json
// "imports" (`#platform`) SHA-256 is @noble/hashes and the default Ed25519 backend is the noble
// backend, and `nodeBackend` is not exported (a bundler refuses an import of it at build time
// instead of a browser failing at run time). So every module is re-exported whole, as in index.ts,
// except ed25519-sign.ts (all but `nodeBackend`) and the backend registry (internal/backends-web.ts
// in place of ed25519-backends.ts); test/platform-web.test.ts keeps the value lists equal;
// apps/console/test runs the spec vectors against this entry in Chromium.
export type { JsonValue } from '@helm/contracts/wire';
export * from './digests.js';
export * from './ed25519.js';
export {
  createSigner,
  type Ed25519KeyPair,
  type EntropySource,
  generateKeyPair,
  keyPairFromSeed,
  toAsyncSigner,
} from './ed25519-sign.js';
export * from './encoding.js';
export * from './envelope.js';
export * from './envelope-sign.js';
export * from './errors.js';
export * from './hash.js';
export * from './internal/backends-web.js';
export { canonicalBytes, canonicalize, JCS_MAX_DEPTH } from './jcs.js';
export * from './json.js';
export * from './keyring.js';
