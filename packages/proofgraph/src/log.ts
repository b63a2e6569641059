// A checkpointed append-only log: a frontier for roots (O(log n) memory) plus a leaf-hash store for
// proofs. Every entry becomes the leaf `helm.log_leaf.v1` (docs/spec/condensed-entry.md).
import { LOG_GENESIS_PREV_HASH } from '@helm/contracts/condensed';
import { RISK_TIERS } from '@helm/contracts/effect';
import type { Signer } from '@helm/crypto/ed25519';
import { digestOfRaw, isDigest } from '@helm/crypto/hash';
import { isSafeInt } from '@helm/crypto/json';
import type { SignedCheckpoint } from './checkpoint.js';
import { signCheckpoint } from './checkpoint-sign.js';
import { ProofGraphError } from './errors.js';
import { MerkleFrontier } from './frontier.js';
import { InMemoryLeafHashStore, type LeafHashStore } from './leaf-store.js';
import { type LogEntry, logLeafHash } from './log-leaf.js';
import { consistencyProof, inclusionProof } from './merkle.js';

export interface MerkleLogOptions {
  readonly logId: string;
  /** Where leaf hashes go (default: in memory). Must be empty, or hold exactly lastCheckpoint's leaves. */
  readonly store?: LeafHashStore;
  /** The log's latest checkpoint when resuming. */
  readonly lastCheckpoint?: SignedCheckpoint;
  /** entry_hash of the last leaf when resuming (the next leaf's prev_hash). */
  readonly lastEntryHash?: string;
}

export class MerkleLog {
  readonly logId: string;
  readonly store: LeafHashStore;
  readonly #frontier = new MerkleFrontier();
  #last: SignedCheckpoint | undefined;
  #lamportFrom = 0;
  #lamportTo = 0;
  #anchor = false;
  #lastEntryHash: string;

  constructor(options: MerkleLogOptions) {
    this.logId = options.logId;
    this.store = options.store ?? new InMemoryLeafHashStore();
    this.#last = options.lastCheckpoint;
    this.#lastEntryHash = options.lastEntryHash ?? LOG_GENESIS_PREV_HASH;
    if (!isDigest(this.#lastEntryHash) || this.store.size > 0 === (options.lastEntryHash === undefined)) {
      throw new ProofGraphError(
        'CHECKPOINT_INPUT_INVALID',
        'lastEntryHash is required exactly when resuming',
      );
    }
    const expected = this.#last ? this.#last.body.tree_size : 0;
    if (this.store.size !== expected || (this.#last && this.#last.body.log_id !== this.logId)) {
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'store does not match the last checkpoint');
    }
    for (let i = 0; i < this.store.size; i++) this.#frontier.append(this.store.leafHash(i));
    if (this.#last && digestOfRaw(this.#frontier.root()) !== this.#last.body.root_hash) {
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'store leaves do not match the checkpoint root');
    }
  }

  get size(): number {
    return this.#frontier.size;
  }

  get lastCheckpoint(): SignedCheckpoint | undefined {
    return this.#last;
  }

  /** entry_hash of the last leaf (genesis value for an empty log). */
  get lastEntryHash(): string {
    return this.#lastEntryHash;
  }

  /** Append an entry (its prev_hash is the previous leaf's entry_hash); returns its leaf index. */
  append(entry: LogEntry): number {
    if (
      !isDigest(entry.entry_hash) ||
      !isSafeInt(entry.lamport, 1) ||
      !RISK_TIERS.includes(entry.risk_tier)
    ) {
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'log entry malformed');
    }
    const h = logLeafHash({ ...entry, prev_hash: this.#lastEntryHash });
    this.#lastEntryHash = entry.entry_hash;
    const index = this.store.append(h);
    this.#frontier.append(h);
    const pending = this.#frontier.size - (this.#last?.body.tree_size ?? 0);
    this.#lamportFrom = pending === 1 ? entry.lamport : Math.min(this.#lamportFrom, entry.lamport);
    this.#lamportTo = pending === 1 ? entry.lamport : Math.max(this.#lamportTo, entry.lamport);
    if (pending === 1) this.#anchor = false;
    if (entry.risk_tier === 'HIGH') this.#anchor = true;
    return index;
  }

  root(): Uint8Array {
    return this.#frontier.root();
  }

  /** Sign a checkpoint over everything appended so far (at least one entry since the last one). */
  checkpoint(signer: Signer, issuedAtMs: number): SignedCheckpoint {
    if (this.size === (this.#last?.body.tree_size ?? 0)) {
      throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'no entries since the last checkpoint');
    }
    const cp = signCheckpoint(
      {
        log_id: this.logId,
        tree_size: this.size,
        root: this.root(),
        lamport_from: this.#lamportFrom,
        lamport_to: this.#lamportTo,
        anchor_required: this.#anchor,
        issued_at_ms: issuedAtMs,
        ...(this.#last ? { prev: this.#last } : {}),
      },
      signer,
    );
    this.#last = cp;
    return cp;
  }

  inclusionProof(index: number, treeSize: number = this.size): string[] {
    return inclusionProof(this.store, index, treeSize).map(digestOfRaw);
  }

  consistencyProof(size1: number, size2: number = this.size): string[] {
    return consistencyProof(this.store, size1, size2).map(digestOfRaw);
  }
}
