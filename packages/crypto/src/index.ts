export { canonicalDigest, effectDigest } from './digests.js';
export {
  type AsyncSigner,
  createSigner,
  ED25519_BACKENDS,
  type Ed25519Backend,
  type Ed25519BackendName,
  type Ed25519KeyPair,
  type EntropySource,
  generateKeyPair,
  getBackend,
  isKeyId,
  isValidPublicKey,
  keyIdFor,
  keyPairFromSeed,
  nobleBackend,
  nodeBackend,
  PUBLIC_KEY_LENGTH,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  type Signer,
  toAsyncSigner,
  verifyEd25519,
} from './ed25519.js';
export { bytesEqual, fromBase64Url, fromHex, toBase64Url, toHex } from './encoding.js';
export {
  DEFAULT_ENVELOPE_LIMITS,
  ENVELOPE_TYPE_PATTERN,
  type EnvelopeBody,
  isEnvelopeType,
  MAX_ENVELOPE_SIGNATURES,
  type PublicKeyLookup,
  preAuthEncoding,
  signEnvelope,
  signEnvelopeAsync,
  type TypedBody,
  type VerifiedEnvelope,
  type VerifyEnvelopeOptions,
  verifyEnvelope,
} from './envelope.js';
export {
  CRYPTO_ERROR_CODES,
  CryptoError,
  type CryptoErrorCode,
  type CryptoReasonCode,
  isCryptoError,
  reasonCodeFor,
} from './errors.js';
export { DIGEST_PREFIX, digest, digestBytes, isDigest, sha256, sha256Hex, sha256Portable } from './hash.js';
export { canonicalBytes, canonicalize, isCanonicalJson, JCS_MAX_DEPTH } from './jcs.js';
export {
  DEFAULT_JSON_LIMITS,
  type JsonLimits,
  type JsonValue,
  MAX_PARSE_DEPTH,
  parseStrictJson,
} from './json.js';
export { createKeyRing, createVerifier, type KeyRing, type Verifier } from './keyring.js';
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
