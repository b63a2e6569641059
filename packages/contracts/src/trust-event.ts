// Trust registry wire formats (normative: docs/spec/trust-event.md, docs/spec/trust-snapshot.md).
//
// `helm.trust.event.v1` — one change to the event-sourced key registry, carried in a SignedEnvelope
// whose type is the same string. Events form a hash chain: `prev` is the digest of the JCS bytes of
// the previous event's whole envelope (`TRUST_GENESIS_PREV` for the genesis event) and `seq` counts
// events from 1 (the genesis). The registry's height is its sequence number — the number of events
// applied — so it advances by exactly one per event; key validity is expressed in those numbers.
// `helm.trust.state.v1` — the canonical registry state after replaying events up to a sequence
// number; its digest (JCS) is the state hash. `helm.trust.snapshot.v1` — the full signed history plus the
// state hash it must replay to.

import type { SignedEnvelope } from './envelope.js';

export const TRUST_EVENT_TYPE = 'helm.trust.event.v1';
export const TRUST_STATE_TYPE = 'helm.trust.state.v1';
export const TRUST_SNAPSHOT_TYPE = 'helm.trust.snapshot.v1';

/** `prev` of the genesis event: `sha256:` followed by 64 zeros. */
export const TRUST_GENESIS_PREV = `sha256:${'0'.repeat(64)}`;

/** The closed set of roles a key can hold. `root` keys govern the registry itself. */
export const TRUST_ROLES = ['root', 'executor', 'guardian', 'approver', 'checkpoint', 'policy'] as const;
export type TrustRole = (typeof TRUST_ROLES)[number];

export const TRUST_EVENT_KINDS = [
  'genesis',
  'key_publish',
  'key_rotate',
  'key_revoke',
  'role_grant',
  'role_revoke',
  'root_threshold_set',
] as const;
export type TrustEventKind = (typeof TRUST_EVENT_KINDS)[number];

/** A published Ed25519 key: keyid = keyIdFor(public key); public_key = base64url of the 32 raw bytes. */
export interface TrustKeyRef {
  readonly keyid: string;
  readonly public_key: string;
}

interface TrustEventCommon {
  readonly type: typeof TRUST_EVENT_TYPE;
  /** Registry name; identical in every event of one history. */
  readonly registry: string;
  /**
   * Registry sequence number: 1 for genesis, previous seq + 1 afterwards. The change takes effect
   * at this sequence number (the registry state after this event).
   */
  readonly seq: number;
  /** digest(JCS(previous event envelope)), or TRUST_GENESIS_PREV for genesis. */
  readonly prev: string;
}

export interface TrustGenesisEvent extends TrustEventCommon {
  readonly kind: 'genesis';
  /** Initial root keys (they hold the `root` role from seq 1). */
  readonly root_keys: readonly TrustKeyRef[];
  /** M of the M-of-N root quorum. */
  readonly root_threshold: number;
}

export interface TrustKeyPublishEvent extends TrustEventCommon {
  readonly kind: 'key_publish';
  readonly key: TrustKeyRef;
  /** Roles granted together with the publication (may be empty). */
  readonly roles: readonly TrustRole[];
}

export interface TrustKeyRotateEvent extends TrustEventCommon {
  readonly kind: 'key_rotate';
  /** The key being replaced; it stops being valid at this event's seq. */
  readonly keyid: string;
  /** The successor; it inherits every role the old key held. */
  readonly new_key: TrustKeyRef;
}

export interface TrustKeyRevokeEvent extends TrustEventCommon {
  readonly kind: 'key_revoke';
  readonly keyid: string;
}

export interface TrustRoleGrantEvent extends TrustEventCommon {
  readonly kind: 'role_grant';
  readonly keyid: string;
  readonly role: TrustRole;
}

export interface TrustRoleRevokeEvent extends TrustEventCommon {
  readonly kind: 'role_revoke';
  readonly keyid: string;
  readonly role: TrustRole;
}

export interface TrustRootThresholdSetEvent extends TrustEventCommon {
  readonly kind: 'root_threshold_set';
  readonly threshold: number;
}

export type TrustEvent =
  | TrustGenesisEvent
  | TrustKeyPublishEvent
  | TrustKeyRotateEvent
  | TrustKeyRevokeEvent
  | TrustRoleGrantEvent
  | TrustRoleRevokeEvent
  | TrustRootThresholdSetEvent;

/** A role held over the half-open interval of registry sequence numbers [granted_at, revoked_at). */
export interface TrustRoleInterval {
  readonly role: TrustRole;
  readonly granted_at: number;
  readonly revoked_at: number | null;
}

/** One key in the canonical state; valid over the sequence numbers [published_at, revoked_at). */
export interface TrustKeyRecord {
  readonly keyid: string;
  readonly public_key: string;
  readonly published_at: number;
  readonly revoked_at: number | null;
  /** `revoked` (key_revoke) or `rotated` (key_rotate), null while valid. */
  readonly revocation: 'revoked' | 'rotated' | null;
  /** Successor key id when rotated. */
  readonly rotated_to: string | null;
  /** Predecessor key id when this key came from a rotation. */
  readonly rotated_from: string | null;
  /** Role intervals in the order they were granted. */
  readonly roles: readonly TrustRoleInterval[];
}

/** Canonical registry state; keys sorted by keyid. state hash = digest(JCS(state)). */
export interface TrustState {
  readonly type: typeof TRUST_STATE_TYPE;
  readonly registry: string;
  /** digest(JCS(genesis envelope)) — the registry's identity / trust anchor. */
  readonly genesis: string;
  /** digest(JCS(last applied envelope)). */
  readonly head: string;
  /** Sequence number of the last applied event (= number of events applied). */
  readonly seq: number;
  readonly root_threshold: number;
  readonly keys: readonly TrustKeyRecord[];
}

/** Self-verifying export: the whole signed history and the state hash it replays to. */
export interface TrustSnapshot {
  readonly type: typeof TRUST_SNAPSHOT_TYPE;
  readonly registry: string;
  readonly genesis: string;
  readonly head: string;
  readonly seq: number;
  readonly state_hash: string;
  readonly events: readonly SignedEnvelope[];
}
