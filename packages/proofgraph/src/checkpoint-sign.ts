// Signing checkpoints `helm.checkpoint.v1` (normative: docs/spec/checkpoint.md §Creation). The body
// rule and the verifiers are checkpoint.ts.
import { CHECKPOINT_GENESIS_HASH, CHECKPOINT_TYPE, type CheckpointBody } from '@helm/contracts/checkpoint';
import type { Signer } from '@helm/crypto/ed25519';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { digestOfRaw } from '@helm/crypto/hash';
import { checkpointBodyProblem, type SignedCheckpoint } from './checkpoint.js';
import { ProofGraphError } from './errors.js';
import { envelopeHash } from './internal/envelope-hash.js';

export interface CheckpointInput {
  readonly log_id: string;
  readonly tree_size: number;
  /** Raw 32-byte RFC 9162 root. */
  readonly root: Uint8Array;
  readonly lamport_from: number;
  readonly lamport_to: number;
  readonly anchor_required: boolean;
  readonly issued_at_ms: number;
  /** The previous checkpoint of this log (none for the first). */
  readonly prev?: SignedCheckpoint;
}

/** Build and sign a checkpoint. Deterministic. */
export function signCheckpoint(input: CheckpointInput, signer: Signer): SignedCheckpoint {
  if (input.root.length !== 32)
    throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'root must be 32 bytes');
  const body = {
    type: CHECKPOINT_TYPE,
    log_id: input.log_id,
    tree_size: input.tree_size,
    root_hash: digestOfRaw(input.root),
    lamport_from: input.lamport_from,
    lamport_to: input.lamport_to,
    prev_checkpoint_hash: input.prev ? input.prev.hash : CHECKPOINT_GENESIS_HASH,
    prev_tree_size: input.prev ? input.prev.body.tree_size : 0,
    anchor_required: input.anchor_required,
    keyid: signer.keyId,
    issued_at_ms: input.issued_at_ms,
  } satisfies CheckpointBody;
  const problem = checkpointBodyProblem(body);
  if (problem) throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', problem);
  if (input.prev && input.prev.body.log_id !== input.log_id) {
    throw new ProofGraphError('CHECKPOINT_INPUT_INVALID', 'previous checkpoint is of another log');
  }
  const envelope = signEnvelope(body, [signer]);
  return { envelope, body, hash: envelopeHash(envelope) };
}
