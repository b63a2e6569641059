export {
  createSigner,
  type Ed25519KeyPair,
  keyIdFor,
  keyPairFromSeed,
  type Signer,
  verifyEd25519,
} from './ed25519.js';
export { bytesEqual, fromBase64Url, fromHex, toBase64Url, toHex } from './encoding.js';
export {
  type EnvelopeBody,
  type PublicKeyLookup,
  preAuthEncoding,
  signEnvelope,
  type VerifiedEnvelope,
  verifyEnvelope,
} from './envelope.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export { DIGEST_PREFIX, digest, isDigest, sha256, sha256Hex } from './hash.js';
export { canonicalBytes, canonicalize } from './jcs.js';
