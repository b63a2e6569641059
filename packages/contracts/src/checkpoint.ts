// Checkpoint (`helm.checkpoint.v1`): a signed RFC 9162 Merkle tree head over an append-only log of
// entries (receipts of one chain, or ProofGraph nodes). Normative: docs/spec/checkpoint.md.
//
// checkpoint hash = digest(canonicalBytes({type, payload, signatures})) of the signed envelope.
// The first checkpoint of a log has prev_checkpoint_hash = CHECKPOINT_GENESIS_HASH and
// prev_tree_size 0; each later one names its predecessor, and a verifier checks a consistency
// proof from prev_tree_size to tree_size.

export const CHECKPOINT_TYPE = 'helm.checkpoint.v1';

/** `prev_checkpoint_hash` of the first checkpoint of a log: `sha256:` followed by 64 zeros. */
export const CHECKPOINT_GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export interface CheckpointBody {
  readonly type: typeof CHECKPOINT_TYPE;
  /** The log this checkpoint covers (for receipts: the chain_id). */
  readonly log_id: string;
  /** Number of leaves covered (≥ 1). */
  readonly tree_size: number;
  /** RFC 9162 Merkle tree hash of the first tree_size leaves, as `sha256:<hex>`. */
  readonly root_hash: string;
  /** Smallest and largest Lamport clock among the leaves added since the previous checkpoint. */
  readonly lamport_from: number;
  readonly lamport_to: number;
  readonly prev_checkpoint_hash: string;
  readonly prev_tree_size: number;
  /** True when a HIGH-tier entry was added since the previous checkpoint: anchor this externally. */
  readonly anchor_required: boolean;
  readonly keyid: string;
  readonly issued_at_ms: number;
}

/** Every field of a checkpoint body, all required (the schema and the validator share it). */
export const CHECKPOINT_FIELDS = [
  'type',
  'log_id',
  'tree_size',
  'root_hash',
  'lamport_from',
  'lamport_to',
  'prev_checkpoint_hash',
  'prev_tree_size',
  'anchor_required',
  'keyid',
  'issued_at_ms',
] as const;
