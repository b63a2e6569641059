// The registry state machine: the authorization rules and effects of each event kind, applied to
// the state *before* the event; the change takes effect at the event's sequence number.
// Normative: docs/spec/trust-event.md.
import {
  TRUST_STATE_TYPE,
  type TrustEvent,
  type TrustKeyRecord,
  type TrustRole,
  type TrustState,
} from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { TrustError } from '../errors.js';
import { decodeKeyRef } from './event.js';

interface RoleInterval {
  role: TrustRole;
  granted_at: number;
  revoked_at: number | null;
}

export interface KeyEntry {
  readonly keyid: string;
  readonly publicKey: Uint8Array;
  readonly public_key: string;
  readonly published_at: number;
  revoked_at: number | null;
  revocation: 'revoked' | 'rotated' | null;
  rotated_to: string | null;
  readonly rotated_from: string | null;
  readonly roles: RoleInterval[];
}

function openRole(entry: KeyEntry, role: TrustRole): RoleInterval | undefined {
  return entry.roles.find((r) => r.role === role && r.revoked_at === null);
}

/** Mutable registry state; `toCanonical` yields the wire form whose JCS digest is the state hash. */
export class RegistryState {
  readonly keys = new Map<string, KeyEntry>();
  registry = '';
  genesis = '';
  head = '';
  seq = 0;
  threshold = 1;

  /** Key ids that are valid now and hold the root role now. */
  currentRootKeys(): string[] {
    const out: string[] = [];
    for (const entry of this.keys.values()) {
      if (entry.revoked_at === null && openRole(entry, 'root')) out.push(entry.keyid);
    }
    return out;
  }

  toCanonical(): TrustState {
    const keys: TrustKeyRecord[] = [...this.keys.values()]
      .sort((a, b) => (a.keyid < b.keyid ? -1 : a.keyid > b.keyid ? 1 : 0))
      .map((e) => ({
        keyid: e.keyid,
        public_key: e.public_key,
        published_at: e.published_at,
        revoked_at: e.revoked_at,
        revocation: e.revocation,
        rotated_to: e.rotated_to,
        rotated_from: e.rotated_from,
        roles: e.roles.map((r) => ({ role: r.role, granted_at: r.granted_at, revoked_at: r.revoked_at })),
      }));
    return {
      type: TRUST_STATE_TYPE,
      registry: this.registry,
      genesis: this.genesis,
      head: this.head,
      seq: this.seq,
      root_threshold: this.threshold,
      keys,
    };
  }

  stateHash(): string {
    return digest(canonicalBytes(this.toCanonical()));
  }
}

function addKey(
  state: RegistryState,
  ref: { keyid: string; public_key: string },
  at: number,
  roles: readonly TrustRole[],
  rotatedFrom: string | null,
): void {
  if (state.keys.has(ref.keyid)) {
    throw new TrustError(
      'TRUST_KEY_EXISTS',
      `key ${ref.keyid} is already in the registry (key ids are never reused)`,
    );
  }
  state.keys.set(ref.keyid, {
    keyid: ref.keyid,
    publicKey: decodeKeyRef(ref, 'key'),
    public_key: ref.public_key,
    published_at: at,
    revoked_at: null,
    revocation: null,
    rotated_to: null,
    rotated_from: rotatedFrom,
    roles: roles.map((role) => ({ role, granted_at: at, revoked_at: null })),
  });
}

function liveKey(state: RegistryState, keyid: string): KeyEntry {
  const entry = state.keys.get(keyid);
  if (!entry) throw new TrustError('TRUST_KEY_UNKNOWN', `key ${keyid} is not in the registry`);
  if (entry.revoked_at !== null) throw new TrustError('TRUST_KEY_REVOKED', `key ${keyid} is no longer valid`);
  return entry;
}

function requireQuorum(state: RegistryState, rootSigners: readonly string[], what: string): void {
  if (rootSigners.length < state.threshold) {
    throw new TrustError(
      'TRUST_EVENT_UNAUTHORIZED',
      `${what} needs ${state.threshold} root signatures, got ${rootSigners.length}`,
    );
  }
}

function requireRoot(rootSigners: readonly string[], what: string): void {
  if (rootSigners.length === 0)
    throw new TrustError('TRUST_EVENT_UNAUTHORIZED', `${what} needs a root signature`);
}

function keepQuorum(state: RegistryState, losing: string): void {
  const remaining = state.currentRootKeys().filter((k) => k !== losing).length;
  if (remaining < state.threshold) {
    throw new TrustError(
      'TRUST_QUORUM_UNREACHABLE',
      `removing ${losing} would leave ${remaining} root keys for a threshold of ${state.threshold}`,
    );
  }
}

/**
 * Authorize and apply one structurally valid, signature-verified event (not genesis).
 * `signers` are the key ids whose signatures verified; each must be valid now, except the subject
 * key of a publish or rotate (its signature is proof of possession).
 */
export function applyEvent(
  state: RegistryState,
  event: TrustEvent,
  signers: readonly string[],
  eventDigest: string,
): void {
  const at = event.seq;
  const subject =
    event.kind === 'key_publish' ? event.key.keyid : event.kind === 'key_rotate' ? event.new_key.keyid : null;
  const rootSigners: string[] = [];
  for (const keyid of signers) {
    if (keyid === subject) continue;
    const entry = liveKey(state, keyid);
    if (openRole(entry, 'root')) rootSigners.push(keyid);
  }
  switch (event.kind) {
    case 'genesis':
      throw new TrustError('TRUST_GENESIS_INVALID', 'a second genesis event');
    case 'key_publish': {
      if (event.roles.includes('root')) requireQuorum(state, rootSigners, 'publishing a root key');
      else requireRoot(rootSigners, 'publishing a key');
      addKey(state, event.key, at, event.roles, null);
      break;
    }
    case 'key_rotate': {
      const old = liveKey(state, event.keyid);
      if (!signers.includes(event.new_key.keyid)) {
        throw new TrustError(
          'TRUST_EVENT_UNAUTHORIZED',
          'a rotation must be signed by the new key (proof of possession)',
        );
      }
      if (openRole(old, 'root')) requireQuorum(state, rootSigners, 'rotating a root key');
      else if (!signers.includes(old.keyid)) requireRoot(rootSigners, 'rotating a key it does not own');
      const inherited = old.roles.filter((r) => r.revoked_at === null).map((r) => r.role);
      addKey(state, event.new_key, at, inherited, old.keyid);
      for (const r of old.roles) if (r.revoked_at === null) r.revoked_at = at;
      old.revoked_at = at;
      old.revocation = 'rotated';
      old.rotated_to = event.new_key.keyid;
      break;
    }
    case 'key_revoke': {
      const target = liveKey(state, event.keyid);
      if (openRole(target, 'root')) {
        requireQuorum(state, rootSigners, 'revoking a root key');
        keepQuorum(state, target.keyid);
      } else if (!signers.includes(target.keyid)) requireRoot(rootSigners, 'revoking a key');
      for (const r of target.roles) if (r.revoked_at === null) r.revoked_at = at;
      target.revoked_at = at;
      target.revocation = 'revoked';
      break;
    }
    case 'role_grant': {
      const target = liveKey(state, event.keyid);
      if (event.role === 'root') requireQuorum(state, rootSigners, 'granting root');
      else requireRoot(rootSigners, 'granting a role');
      if (openRole(target, event.role)) {
        throw new TrustError('TRUST_ROLE_CONFLICT', `${event.keyid} already holds ${event.role}`);
      }
      target.roles.push({ role: event.role, granted_at: at, revoked_at: null });
      break;
    }
    case 'role_revoke': {
      const target = liveKey(state, event.keyid);
      if (event.role === 'root') requireQuorum(state, rootSigners, 'revoking root');
      else requireRoot(rootSigners, 'revoking a role');
      const interval = openRole(target, event.role);
      if (!interval)
        throw new TrustError('TRUST_ROLE_CONFLICT', `${event.keyid} does not hold ${event.role}`);
      if (event.role === 'root') keepQuorum(state, target.keyid);
      interval.revoked_at = at;
      break;
    }
    case 'root_threshold_set': {
      requireQuorum(state, rootSigners, 'changing the root threshold');
      if (event.threshold > state.currentRootKeys().length) {
        throw new TrustError('TRUST_QUORUM_UNREACHABLE', 'threshold exceeds the number of root keys');
      }
      state.threshold = event.threshold;
      break;
    }
  }
  state.head = eventDigest;
  state.seq = event.seq;
}

/** Initialise `state` from a verified genesis event. */
export function applyGenesis(
  state: RegistryState,
  event: Extract<TrustEvent, { kind: 'genesis' }>,
  signers: readonly string[],
  eventDigest: string,
): void {
  const rootIds = new Set(event.root_keys.map((k) => k.keyid));
  if (!signers.every((s) => rootIds.has(s))) {
    throw new TrustError('TRUST_GENESIS_INVALID', 'genesis is signed by a key outside its root set');
  }
  if (signers.length < event.root_threshold) {
    throw new TrustError(
      'TRUST_GENESIS_INVALID',
      `genesis needs ${event.root_threshold} root signatures, got ${signers.length}`,
    );
  }
  state.registry = event.registry;
  state.genesis = eventDigest;
  state.threshold = event.root_threshold;
  for (const ref of event.root_keys) addKey(state, ref, event.seq, ['root'], null);
  state.head = eventDigest;
  state.seq = event.seq;
}
