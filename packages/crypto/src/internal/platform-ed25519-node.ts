// The default Ed25519 backend of the Node build (`#platform-ed25519` in package.json "imports"):
// node:crypto (OpenSSL). The browser build maps the same names to noble (platform-ed25519-web.ts).
export { isCachedValidKey, nodeVerify } from './backend-node.js';
export { nodePublicKeyFromSeed, nodeSignerFor } from './backend-node-sign.js';
