// Authoring trust events (normative: docs/spec/trust-event.md §2, §4): build, sign and apply the
// genesis and every later change. The registry (registry.ts) only verifies and answers; signing
// lives here, so a verifier's import closure (`@helm/trust/verify`) holds none of it.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  TRUST_EVENT_TYPE,
  TRUST_GENESIS_PREV,
  type TrustKeyRef,
  type TrustRole,
} from '@helm/contracts/trust-event';
import { keyIdFor, type Signer } from '@helm/crypto/ed25519';
import { toBase64Url } from '@helm/crypto/encoding';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { parseTrustEvent } from './event.js';
import { nextSeq, type TrustRegistry } from './registry.js';

/** The key reference (keyid + base64url public key) for a raw Ed25519 public key. */
export function trustKeyRef(publicKey: Uint8Array): TrustKeyRef {
  return { keyid: keyIdFor(publicKey), public_key: toBase64Url(publicKey) };
}

/** Parameters of a genesis event. */
export interface GenesisParams {
  readonly registry: string;
  /** Raw Ed25519 public keys of the initial root keys. */
  readonly rootKeys: readonly Uint8Array[];
  readonly rootThreshold: number;
}

/** Build and sign the genesis event; at least `rootThreshold` of the root keys must sign. */
export function createGenesisEvent(params: GenesisParams, signers: readonly Signer[]): SignedEnvelope {
  const body = {
    type: TRUST_EVENT_TYPE,
    kind: 'genesis',
    registry: params.registry,
    seq: 1,
    prev: TRUST_GENESIS_PREV,
    root_keys: params.rootKeys.map(trustKeyRef),
    root_threshold: params.rootThreshold,
  };
  parseTrustEvent(body);
  return signEnvelope(body, signers);
}

/** A registry change without the chain fields (`type`, `registry`, `seq`, `prev`). */
export type TrustChange =
  | { readonly kind: 'key_publish'; readonly publicKey: Uint8Array; readonly roles: readonly TrustRole[] }
  | { readonly kind: 'key_rotate'; readonly keyid: string; readonly newPublicKey: Uint8Array }
  | { readonly kind: 'key_revoke'; readonly keyid: string }
  | { readonly kind: 'role_grant'; readonly keyid: string; readonly role: TrustRole }
  | { readonly kind: 'role_revoke'; readonly keyid: string; readonly role: TrustRole }
  | { readonly kind: 'root_threshold_set'; readonly threshold: number };

/** The JSON fields of a change (what follows the chain fields in the event body). */
function changeFields(change: TrustChange): Record<string, unknown> {
  switch (change.kind) {
    case 'key_publish':
      return { kind: change.kind, key: trustKeyRef(change.publicKey), roles: [...change.roles] };
    case 'key_rotate':
      return { kind: change.kind, keyid: change.keyid, new_key: trustKeyRef(change.newPublicKey) };
    case 'key_revoke':
      return { kind: change.kind, keyid: change.keyid };
    case 'role_grant':
    case 'role_revoke':
      return { kind: change.kind, keyid: change.keyid, role: change.role };
    case 'root_threshold_set':
      return { kind: change.kind, threshold: change.threshold };
  }
}

/**
 * Build and sign (but do not apply) the event that makes `change` to `registry`: it takes effect at
 * seq + 1. Throws TrustError for a change that is not a well-formed event.
 */
export function prepareTrustEvent(
  registry: TrustRegistry,
  change: TrustChange,
  signers: readonly Signer[],
): SignedEnvelope {
  const body = {
    type: TRUST_EVENT_TYPE,
    registry: registry.registryName,
    seq: nextSeq(registry.seq),
    prev: registry.head,
    ...changeFields(change),
  };
  parseTrustEvent(body);
  return signEnvelope(body, signers);
}

/** `prepareTrustEvent`, then `registry.append`: returns the applied envelope (throws TrustError). */
export function commitTrustEvent(
  registry: TrustRegistry,
  change: TrustChange,
  signers: readonly Signer[],
): SignedEnvelope {
  const envelope = prepareTrustEvent(registry, change, signers);
  registry.append(envelope);
  return envelope;
}
