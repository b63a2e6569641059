// The portable Ed25519 backend and the backend registry (docs/spec/signatures.md). Kept apart from
// ed25519.ts: verification defaults to the node backend, so verify paths need not import this.
import type { Ed25519Backend, Ed25519BackendName } from './ed25519.js';
import { nodeBackend } from './ed25519-sign.js';
import { CryptoError } from './errors.js';
import { noblePublicKeyFromSeed, nobleSignerFor, nobleVerify } from './internal/backend-noble.js';

export const nobleBackend: Ed25519Backend = Object.freeze({
  name: 'noble',
  publicKeyFromSeed: noblePublicKeyFromSeed,
  signerFor: nobleSignerFor,
  verify: nobleVerify,
});

export const ED25519_BACKENDS: readonly Ed25519Backend[] = Object.freeze([nodeBackend, nobleBackend]);

/** The backend with the given name. */
export function getBackend(name: Ed25519BackendName): Ed25519Backend {
  const backend = ED25519_BACKENDS.find((b) => b.name === name);
  if (!backend) throw new CryptoError('KEY_INVALID', `unknown Ed25519 backend ${String(name)}`);
  return backend;
}
