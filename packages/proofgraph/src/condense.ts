// Proof condensation (normative: docs/spec/condensed-entry.md). After a checkpoint, LOW-tier receipts
// may be replaced by {leaf fields, inclusion proof, checkpoint reference}; MEDIUM keeps full receipts
// plus checkpoints; HIGH is never condensed and its checkpoints are marked for external anchoring.
// The log of one receipt chain has leaf i = the receipt with lamport i + 1. Verification of a
// condensed history is condense-verify.ts.
import { CONDENSED_ENTRY_TYPE, LOG_GENESIS_PREV_HASH } from '@helm/contracts/condensed';
import type { RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { bytesEqual } from '@helm/crypto/encoding';
import { digestOfRaw } from '@helm/crypto/hash';
import type { SignedCheckpoint } from './checkpoint.js';
import type { HistoryItem } from './condense-verify.js';
import { ProofGraphError } from './errors.js';
import type { MerkleLog } from './log.js';
import { type LogLeafFields, logLeafHash } from './log-leaf.js';

/** A verified receipt as the chain knows it. */
export interface ReceiptRef {
  readonly envelope: SignedEnvelope;
  /** Receipt hash. */
  readonly hash: string;
  readonly lamport: number;
  readonly risk_tier: RiskTier;
}

export interface Condensation {
  /** The receipts, LOW ones under the checkpoint replaced by condensed entries. */
  readonly history: HistoryItem[];
  readonly condensed: number;
  /** Receipt hashes of HIGH receipts: keep forever and anchor their checkpoint externally. */
  readonly anchor: string[];
}

/**
 * Condense a chain's receipts (all of them, lamport 1..n, in order) against `checkpoint` of `log`.
 * Refuses receipts that are not the log's leaves.
 */
export function condenseHistory(
  receipts: readonly ReceiptRef[],
  log: MerkleLog,
  checkpoint: SignedCheckpoint,
): Condensation {
  if (checkpoint.body.log_id !== log.logId || checkpoint.body.tree_size > log.size) {
    throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'checkpoint is not of this log');
  }
  const history: HistoryItem[] = [];
  const anchor: string[] = [];
  let condensed = 0;
  const treeSize = checkpoint.body.tree_size;
  let prevHash = LOG_GENESIS_PREV_HASH;
  receipts.forEach((r, i) => {
    if (r.lamport !== i + 1)
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', `receipt ${i} has lamport ${r.lamport}`);
    const entry: LogLeafFields = {
      entry_hash: r.hash,
      lamport: r.lamport,
      risk_tier: r.risk_tier,
      prev_hash: prevHash,
    };
    prevHash = r.hash;
    if (i < log.size && !bytesEqual(log.store.leafHash(i), logLeafHash(entry))) {
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', `receipt ${i} is not leaf ${i} of the log`);
    }
    if (r.risk_tier === 'HIGH') anchor.push(r.hash);
    if (r.risk_tier !== 'LOW' || i >= treeSize) {
      history.push(r.envelope);
      return;
    }
    history.push({
      type: CONDENSED_ENTRY_TYPE,
      log_id: log.logId,
      leaf_index: i,
      lamport: r.lamport,
      entry_hash: r.hash,
      prev_hash: entry.prev_hash,
      risk_tier: 'LOW',
      leaf_hash: digestOfRaw(logLeafHash(entry)),
      inclusion_proof: log.inclusionProof(i, treeSize),
      checkpoint_hash: checkpoint.hash,
      tree_size: treeSize,
    });
    condensed++;
  });
  return { history, condensed, anchor };
}
