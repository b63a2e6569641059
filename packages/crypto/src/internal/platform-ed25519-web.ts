// The default Ed25519 backend of the browser build (`#platform-ed25519` in package.json
// "imports"): the noble backend, the same strict policy (cross-checked against OpenSSL by the Node
// tests). The names stay those the shared modules import from the Node target.
import { noblePublicKeyFromSeed, nobleSignerFor, nobleVerify } from './backend-noble.js';
import { decodeValidPublicKey } from './ed25519-policy.js';

// The default backend's functions keep the Node names the shared modules import; here they are
// noble's (a browser has no OpenSSL).
export const nodeVerify = nobleVerify;
export const nodePublicKeyFromSeed = noblePublicKeyFromSeed;
export const nodeSignerFor = nobleSignerFor;

export function isCachedValidKey(publicKey: Uint8Array): boolean {
  return (
    publicKey instanceof Uint8Array &&
    publicKey.length === 32 &&
    decodeValidPublicKey(publicKey) !== undefined
  );
}
