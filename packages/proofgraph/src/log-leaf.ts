// The log leaf `helm.log_leaf.v1` (normative: docs/spec/condensed-entry.md): the Merkle leaf every
// entry of a checkpointed log becomes, shared by the log (log.ts) and the condensed-history
// verifier (condense-verify.ts).
import { LOG_LEAF_TYPE } from '@helm/contracts/condensed';
import type { RiskTier } from '@helm/contracts/effect';
import { canonicalBytes } from '@helm/crypto/jcs';
import { hashLeaf } from './internal/hashing.js';

export interface LogEntry {
  /** Receipt hash or node hash of the entry. */
  readonly entry_hash: string;
  readonly lamport: number;
  readonly risk_tier: RiskTier;
}

/** A log entry at its position: with the entry hash of the previous leaf. */
export interface LogLeafFields extends LogEntry {
  readonly prev_hash: string;
}

/** canonicalBytes({type: 'helm.log_leaf.v1', lamport, entry_hash, prev_hash, risk_tier}). */
export function logLeafData(leaf: LogLeafFields): Uint8Array {
  return canonicalBytes({
    type: LOG_LEAF_TYPE,
    lamport: leaf.lamport,
    entry_hash: leaf.entry_hash,
    prev_hash: leaf.prev_hash,
    risk_tier: leaf.risk_tier,
  });
}

/** RFC 9162 leaf hash of a log leaf. */
export function logLeafHash(leaf: LogLeafFields): Uint8Array {
  return hashLeaf(logLeafData(leaf));
}
