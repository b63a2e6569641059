// The browser entry of @helm/crypto (package.json "exports" → "." → "browser"). The same API as
// index.ts and the same modules, except that node:crypto is not there: through package.json
// "imports" (`#platform`) SHA-256 is @noble/hashes and the default Ed25519 backend is the noble
// backend, and `nodeBackend` is not exported (a bundler refuses an import of it at build time
// instead of a browser failing at run time). test/browser-entry.test.ts keeps the two lists equal;
// apps/console/test runs the spec vectors against this entry in Chromium.
export type { JsonValue } from '@helm/contracts/wire';
export { canonicalDigest, effectDigest, soleSignatureDigest } from './digests.js';
export {
  type AsyncSigner,
  type Ed25519Backend,
  type Ed25519BackendName,
  isKeyId,
  isValidPublicKey,
  keyIdFor,
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  type SignatureCheck,
  type Signer,
  verifyEd25519,
} from './ed25519.js';
export {
  createSigner,
  type Ed25519KeyPair,
  type EntropySource,
  generateKeyPair,
  keyPairFromSeed,
  toAsyncSigner,
} from './ed25519-sign.js';
export {
  bytesEqual,
  fromBase64Url,
  fromHex,
  toBase64Url,
  toHex,
} from './encoding.js';
export {
  DEFAULT_ENVELOPE_LIMITS,
  type EnvelopeBody,
  type EnvelopeCheck,
  isEnvelopeType,
  type OpenEnvelopeOptions,
  type OpenedEnvelope,
  openEnvelope,
  openVerifiedEnvelope,
  type PublicKeyLookup,
  preAuthEncoding,
  type TypedBody,
  type VerifiedEnvelope,
  type VerifyEnvelopeOptions,
  verifyEnvelope,
} from './envelope.js';
export {
  type IdentifiedEnvelope,
  signEnvelope,
  signEnvelopeAsync,
  signIdentifiedEnvelope,
} from './envelope-sign.js';
export {
  CRYPTO_ERROR_CODES,
  CryptoError,
  type CryptoErrorCode,
  type CryptoReasonCode,
  isCryptoError,
  reasonCodeFor,
} from './errors.js';
export {
  digest,
  digestBytes,
  digestOfRaw,
  digestText,
  isDigest,
  sha256,
  sha256Hex,
} from './hash.js';
export { ED25519_BACKENDS, getBackend, nobleBackend } from './internal/backends-web.js';
export { canonicalBytes, canonicalize, JCS_MAX_DEPTH } from './jcs.js';
export {
  DEFAULT_JSON_LIMITS,
  isSafeInt,
  type JsonLimits,
  MAX_PARSE_DEPTH,
  parseStrictJson,
} from './json.js';
export { createKeyRing, type KeyRing } from './keyring.js';
export {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  exportPrivateKeyJwk,
  exportPrivateKeyPem,
  exportPrivateKeyPkcs8,
  exportPublicKeyJwk,
  exportPublicKeyPem,
  exportPublicKeySpki,
  importPrivateKeyJwk,
  importPrivateKeyPem,
  importPrivateKeyPkcs8,
  importPublicKeyJwk,
  importPublicKeyPem,
  importPublicKeyRaw,
  importPublicKeySpki,
} from './keys.js';
