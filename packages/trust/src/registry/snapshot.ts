// Self-verifying registry snapshots (`helm.trust.snapshot.v1`, docs/spec/trust-snapshot.md):
// the whole signed history plus the head and state hash it must replay to. Import re-verifies
// every event from the anchored genesis and recomputes the state hash.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { TRUST_SNAPSHOT_TYPE, type TrustSnapshot } from '@helm/contracts/trust-event';
import { isDigest } from '@helm/crypto/hash';
import { TrustError } from '../errors.js';
import { type RegistryLoadOptions, TrustRegistry } from './registry.js';

/** Export the registry's verified history with its head and state hash. */
export function exportTrustSnapshot(registry: TrustRegistry): TrustSnapshot {
  return {
    type: TRUST_SNAPSHOT_TYPE,
    registry: registry.registryName,
    genesis: registry.genesis,
    head: registry.head,
    seq: registry.seq,
    state_hash: registry.stateHash(),
    events: [...registry.events()],
  };
}

const FIELDS = ['type', 'registry', 'genesis', 'head', 'seq', 'state_hash', 'events'];

function malformed(message: string): TrustError {
  return new TrustError('TRUST_SNAPSHOT_MALFORMED', message);
}

/**
 * Import a snapshot: replay and verify the whole history from the anchored genesis, then require
 * the declared head, seq and state hash to match what the history replays to.
 */
export function importTrustSnapshot(snapshot: unknown, options: RegistryLoadOptions): TrustRegistry {
  if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot))
    throw malformed('not an object');
  const s = snapshot as Record<string, unknown>;
  const keys = Object.keys(s).sort();
  if (keys.length !== FIELDS.length || ![...FIELDS].sort().every((k, i) => keys[i] === k)) {
    throw malformed(`fields must be exactly: ${FIELDS.join(', ')}`);
  }
  if (s.type !== TRUST_SNAPSHOT_TYPE) throw malformed('wrong snapshot type');
  if (!isDigest(s.genesis) || !isDigest(s.head) || !isDigest(s.state_hash))
    throw malformed('bad digest field');
  if (!Number.isSafeInteger(s.seq) || (s.seq as number) < 1 || typeof s.registry !== 'string') {
    throw malformed('bad seq or registry');
  }
  if (!Array.isArray(s.events) || s.events.length === 0) throw malformed('events must be a non-empty array');
  if (s.genesis !== options.genesis) {
    throw new TrustError(
      'TRUST_ANCHOR_MISMATCH',
      `snapshot genesis ${String(s.genesis)} is not the trusted anchor`,
    );
  }
  const registry = TrustRegistry.load(s.events as SignedEnvelope[], options);
  if (registry.seq < (s.seq as number)) {
    throw new TrustError(
      'TRUST_SNAPSHOT_TRUNCATED',
      `history ends at seq ${registry.seq}, snapshot declares ${String(s.seq)}`,
    );
  }
  if (registry.seq !== s.seq || registry.head !== s.head || registry.registryName !== s.registry) {
    throw new TrustError(
      'TRUST_SNAPSHOT_HASH_MISMATCH',
      'declared head, seq or registry differ from the history',
    );
  }
  const stateHash = registry.stateHash();
  if (stateHash !== s.state_hash) {
    throw new TrustError(
      'TRUST_SNAPSHOT_HASH_MISMATCH',
      `history replays to ${stateHash}, snapshot declares ${String(s.state_hash)}`,
    );
  }
  return registry;
}
