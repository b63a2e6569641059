// The registry state machine: the authorization rules and effects of each event kind, applied to
// the state *before* the event; the change takes effect at the event's sequence number.
// Normative: docs/spec/trust-event.md.
import {
  TRUST_STATE_TYPE,
  type TrustEvent,
  type TrustKeyRecord,
  type TrustRole,
  type TrustState,
} from '@helm/contracts/trust-event';
import { digestText } from '@helm/crypto/hash';
import { canonicalize } from '@helm/crypto/jcs';
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

/**
 * Mutable registry state; `toCanonical(at)` yields the wire form at any sequence number it has
 * passed, whose JCS digest is the state hash.
 *
 * Why no replay is needed for a past state: every change an event makes is stamped with the
 * event's seq and never undone — a key or role interval is opened at its seq, closed at most once
 * at a later seq, and nothing is ever removed; the threshold keeps its history. So the state after
 * events 1..s is this state with everything stamped after s left out or reopened (a close after s
 * is "still open at s"). Nothing but the sequence number decides what a past state holds.
 */
export class RegistryState {
  readonly keys = new Map<string, KeyEntry>();
  registry = '';
  genesis = '';
  head = '';
  seq = 0;
  threshold = 1;
  /** Every threshold the registry had, with the seq it took effect at (genesis first). */
  private readonly thresholds: { readonly seq: number; readonly threshold: number }[] = [];

  /** Key ids that are valid now and hold the root role now. */
  currentRootKeys(): string[] {
    const out: string[] = [];
    for (const entry of this.keys.values()) {
      if (entry.revoked_at === null && openRole(entry, 'root')) out.push(entry.keyid);
    }
    return out;
  }

  add(entry: KeyEntry): void {
    this.keys.set(entry.keyid, entry);
  }

  setThreshold(threshold: number, at: number): void {
    this.threshold = threshold;
    this.thresholds.push({ seq: at, threshold });
  }

  private thresholdAt(at: number): number {
    for (let i = this.thresholds.length - 1; i > 0; i--) {
      const change = this.thresholds[i] as { seq: number; threshold: number };
      if (change.seq <= at) return change.threshold;
    }
    return (this.thresholds[0] as { threshold: number }).threshold;
  }

  /** Keys in the canonical order (by keyid). */
  private sortedKeys(): KeyEntry[] {
    return [...this.keys.values()].sort((a, b) => (a.keyid < b.keyid ? -1 : a.keyid > b.keyid ? 1 : 0));
  }

  private header(at: number, head: string): Omit<TrustState, 'keys'> {
    return {
      type: TRUST_STATE_TYPE,
      registry: this.registry,
      genesis: this.genesis,
      head,
      seq: at,
      root_threshold: this.thresholdAt(at),
    };
  }

  /**
   * Canonical `helm.trust.state.v1` after events 1..`at` (1 ≤ at ≤ seq; default: now), whose head
   * digest is `head` (the caller's record of event `at`).
   */
  toCanonical(at: number = this.seq, head: string = this.head): TrustState {
    const keys: TrustKeyRecord[] = [];
    for (const e of this.sortedKeys()) if (e.published_at <= at) keys.push(recordAt(e, at));
    return { ...this.header(at, head), keys };
  }

  /** digest(JCS(toCanonical(at, head))): the state hash (docs/spec/trust-event.md §5). */
  stateHash(at: number = this.seq, head: string = this.head): string {
    return digestText(canonicalize(this.toCanonical(at, head)));
  }
}

/** The key's record in the state after events 1..`at` (stamps after `at` left out or reopened). */
function recordAt(e: KeyEntry, at: number): TrustKeyRecord {
  const closed = (stamp: number | null) => stamp !== null && stamp <= at;
  const revoked = closed(e.revoked_at);
  const roles: TrustKeyRecord['roles'][number][] = [];
  for (const r of e.roles) {
    if (r.granted_at > at) continue;
    roles.push({
      role: r.role,
      granted_at: r.granted_at,
      revoked_at: closed(r.revoked_at) ? r.revoked_at : null,
    });
  }
  return {
    keyid: e.keyid,
    public_key: e.public_key,
    published_at: e.published_at,
    revoked_at: revoked ? e.revoked_at : null,
    revocation: revoked ? e.revocation : null,
    rotated_to: revoked ? e.rotated_to : null,
    rotated_from: e.rotated_from,
    roles,
  };
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
  state.add({
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
    case 'key_rotate':
      applyRotate(state, event, signers, rootSigners);
      break;
    case 'key_revoke':
      applyRevoke(state, event, signers, rootSigners);
      break;
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
      state.setThreshold(event.threshold, at);
      break;
    }
  }
  state.head = eventDigest;
  state.seq = event.seq;
}

/** A rotation: signed by the new key; by a root quorum for a root key, else by the old key or a root. */
function applyRotate(
  state: RegistryState,
  event: Extract<TrustEvent, { kind: 'key_rotate' }>,
  signers: readonly string[],
  rootSigners: readonly string[],
): void {
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
  addKey(state, event.new_key, event.seq, inherited, old.keyid);
  for (const r of old.roles) if (r.revoked_at === null) r.revoked_at = event.seq;
  old.revoked_at = event.seq;
  old.revocation = 'rotated';
  old.rotated_to = event.new_key.keyid;
}

/** A revocation: by a root quorum that survives it for a root key, else by the key itself or a root. */
function applyRevoke(
  state: RegistryState,
  event: Extract<TrustEvent, { kind: 'key_revoke' }>,
  signers: readonly string[],
  rootSigners: readonly string[],
): void {
  const target = liveKey(state, event.keyid);
  if (openRole(target, 'root')) {
    requireQuorum(state, rootSigners, 'revoking a root key');
    keepQuorum(state, target.keyid);
  } else if (!signers.includes(target.keyid)) requireRoot(rootSigners, 'revoking a key');
  for (const r of target.roles) if (r.revoked_at === null) r.revoked_at = event.seq;
  target.revoked_at = event.seq;
  target.revocation = 'revoked';
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
  state.setThreshold(event.root_threshold, event.seq);
  for (const ref of event.root_keys) addKey(state, ref, event.seq, ['root'], null);
  state.head = eventDigest;
  state.seq = event.seq;
}
