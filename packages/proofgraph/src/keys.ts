/**
 * Resolves the public key for `keyid`, valid for `role` at Lamport height `lamport`, or undefined
 * (unknown, revoked, or lacking the role). The trust package supplies "key valid at height"; a
 * plain `(keyid) => key` function also fits.
 */
export type KeyLookup = (keyid: string, role: string, lamport: number) => Uint8Array | undefined;

/** Role a checkpoint signing key must hold. */
export const CHECKPOINT_SIGNER_ROLE = 'checkpoint-signer';

/** Role a node signing key must hold for a node of `kind`: `node:<KIND>`. */
export function nodeSignerRole(kind: string): string {
  return `node:${kind}`;
}
