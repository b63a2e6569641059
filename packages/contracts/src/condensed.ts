// Condensed entry (`helm.condensed.v1`) and log leaf (`helm.log_leaf.v1`). Normative:
// docs/spec/condensed-entry.md.
//
// Every entry appended to a checkpointed log becomes the Merkle leaf
//   leaf data = canonicalBytes({type: 'helm.log_leaf.v1', lamport, entry_hash, prev_hash, risk_tier})
//   leaf hash = SHA-256(0x00 || leaf data)                      (RFC 9162 §2.1.1)
// After a checkpoint, a LOW-tier receipt may be replaced by a condensed entry: the fields of its
// leaf plus an inclusion proof against a named checkpoint. It is unsigned; its authority is the
// checkpoint signature, so any edit breaks the inclusion proof. `prev_hash` is the entry hash of the
// previous leaf of the log (LOG_GENESIS_PREV_HASH for leaf 0), so the hash chain stays checkable
// straight through condensed entries.

import type { RiskTier } from './effect.js';

export const LOG_LEAF_TYPE = 'helm.log_leaf.v1';
export const CONDENSED_ENTRY_TYPE = 'helm.condensed.v1';

/** `prev_hash` of leaf 0 of every log: `sha256:` followed by 64 zeros. */
export const LOG_GENESIS_PREV_HASH = `sha256:${'0'.repeat(64)}`;

export interface LogLeaf {
  readonly type: typeof LOG_LEAF_TYPE;
  readonly lamport: number;
  /** Receipt hash (or node hash) of the entry. */
  readonly entry_hash: string;
  /** entry_hash of the previous leaf (LOG_GENESIS_PREV_HASH for leaf 0). */
  readonly prev_hash: string;
  readonly risk_tier: RiskTier;
}

export interface CondensedEntry {
  readonly type: typeof CONDENSED_ENTRY_TYPE;
  readonly log_id: string;
  /** 0-based position of the leaf in the log. */
  readonly leaf_index: number;
  readonly lamport: number;
  /** Receipt hash of the condensed receipt (the next receipt's prev_hash names it). */
  readonly entry_hash: string;
  /** entry_hash of the previous leaf: the condensed receipt's own prev_hash. */
  readonly prev_hash: string;
  /** Always LOW: MEDIUM and HIGH entries are never condensed. */
  readonly risk_tier: RiskTier;
  /** `sha256:<hex>` of the RFC 9162 leaf hash (redundant; verifiers recompute and compare). */
  readonly leaf_hash: string;
  /** RFC 9162 inclusion proof (sibling hashes, leaf to root), each `sha256:<hex>`. */
  readonly inclusion_proof: readonly string[];
  /** Checkpoint hash of the signed checkpoint the proof is against. */
  readonly checkpoint_hash: string;
  /** tree_size of that checkpoint. */
  readonly tree_size: number;
}

/** Every field of a condensed entry, all required (the schema and the validator share it). */
export const CONDENSED_ENTRY_FIELDS = [
  'type',
  'log_id',
  'leaf_index',
  'lamport',
  'entry_hash',
  'prev_hash',
  'risk_tier',
  'leaf_hash',
  'inclusion_proof',
  'checkpoint_hash',
  'tree_size',
] as const;
