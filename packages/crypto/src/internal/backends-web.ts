// The backend registry of the browser entry: only the noble backend (a browser has no OpenSSL).
// Same names and shapes as ed25519-backends.ts, so code written against the Node entry that asks
// for `getBackend('noble')` runs unchanged; asking for `node` is the typed error of an unknown name.
import type { Ed25519Backend, Ed25519BackendName } from '../ed25519.js';
import { CryptoError } from '../errors.js';
import { noblePublicKeyFromSeed, nobleSignerFor, nobleVerify } from './backend-noble.js';

export const nobleBackend: Ed25519Backend = Object.freeze({
  name: 'noble',
  publicKeyFromSeed: noblePublicKeyFromSeed,
  signerFor: nobleSignerFor,
  verify: nobleVerify,
});

export const ED25519_BACKENDS: readonly Ed25519Backend[] = Object.freeze([nobleBackend]);

export function getBackend(name: Ed25519BackendName): Ed25519Backend {
  const backend = ED25519_BACKENDS.find((b) => b.name === name);
  if (!backend)
    throw new CryptoError('KEY_INVALID', `Ed25519 backend ${String(name)} is not available in a browser`);
  return backend;
}
