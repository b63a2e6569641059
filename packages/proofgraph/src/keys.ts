import type { RoleKeyLookup } from '@helm/contracts/wire';

/**
 * Resolves the public key for `keyid` valid for `role` at the node's Lamport height (checkpoints:
 * `lamport_to`), or undefined. The one key-lookup shape of HELM (`RoleKeyLookup` of @helm/contracts);
 * the trust package supplies "key valid at height", and a plain `(keyid) => key` function also fits.
 */
export type KeyLookup = RoleKeyLookup;

/** Role a checkpoint signing key must hold. */
export const CHECKPOINT_SIGNER_ROLE = 'checkpoint-signer';

/** Role a node signing key must hold for a node of `kind`: `node:<KIND>`. */
export function nodeSignerRole(kind: string): string {
  return `node:${kind}`;
}
