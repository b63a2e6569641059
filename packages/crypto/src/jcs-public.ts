// Entry point `@helm/crypto/jcs`: RFC 8785 canonicalization. jcs.ts also exports the member-text
// helper of the quarantined fast path (fast/identified.ts), which is not public API.
export { canonicalBytes, canonicalize, JCS_MAX_DEPTH } from './jcs.js';
