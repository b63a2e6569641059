// Signed checkpoints `helm.checkpoint.v1` (normative: docs/spec/checkpoint.md): a signed RFC 9162
// tree head over an append-only log, chained to its predecessor, and the check that a later
// checkpoint extends an earlier one. Signing is checkpoint-sign.ts, off the verify path.
import {
  CHECKPOINT_FIELDS,
  CHECKPOINT_GENESIS_HASH,
  CHECKPOINT_TYPE,
  type CheckpointBody,
} from '@helm/contracts/checkpoint';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { CHAIN_ID_PATTERN } from '@helm/contracts/receipt';
import { isKeyId, verifyEd25519 } from '@helm/crypto/ed25519';
import { digestBytes, isDigest } from '@helm/crypto/hash';
import { isSafeInt } from '@helm/crypto/json';
import { fieldsProblem, openSingleSigned } from './internal/envelope.js';
import { envelopeHash } from './internal/envelope-hash.js';
import { CHECKPOINT_SIGNER_ROLE, type KeyLookup } from './keys.js';
import { verifyConsistency } from './merkle-verify.js';

export interface SignedCheckpoint {
  readonly envelope: SignedEnvelope;
  readonly body: CheckpointBody;
  /** Checkpoint hash: digest of the canonical envelope. */
  readonly hash: string;
}

const LOG_ID = new RegExp(CHAIN_ID_PATTERN);

export function checkpointBodyProblem(body: Record<string, unknown>): string | undefined {
  const f = fieldsProblem(body, CHECKPOINT_FIELDS);
  if (f) return f;
  if (body.type !== CHECKPOINT_TYPE) return 'type';
  if (typeof body.log_id !== 'string' || !LOG_ID.test(body.log_id)) return 'log_id';
  if (!isSafeInt(body.tree_size, 1)) return 'tree_size';
  if (!isDigest(body.root_hash)) return 'root_hash';
  if (
    !isSafeInt(body.lamport_from, 1) ||
    !isSafeInt(body.lamport_to, 1) ||
    body.lamport_from > body.lamport_to
  )
    return 'lamport range';
  if (!isDigest(body.prev_checkpoint_hash)) return 'prev_checkpoint_hash';
  if (!isSafeInt(body.prev_tree_size, 0) || body.prev_tree_size >= body.tree_size) return 'prev_tree_size';
  if ((body.prev_tree_size === 0) !== (body.prev_checkpoint_hash === CHECKPOINT_GENESIS_HASH))
    return 'the genesis prev_checkpoint_hash goes with prev_tree_size 0, and only with it';
  if (typeof body.anchor_required !== 'boolean') return 'anchor_required';
  if (!isKeyId(body.keyid)) return 'keyid';
  if (!isSafeInt(body.issued_at_ms, 0)) return 'issued_at_ms';
  return undefined;
}

export type CheckpointVerifyCode =
  | 'MALFORMED'
  | 'KEYID_MISMATCH'
  | 'KEY_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'LOG_MISMATCH'
  | 'NOT_SUCCESSOR'
  | 'SIZE_REGRESSION'
  | 'CONSISTENCY_INVALID';

export type CheckpointCheck =
  | { readonly ok: true; readonly checkpoint: SignedCheckpoint }
  | { readonly ok: false; readonly code: CheckpointVerifyCode; readonly message: string };

/**
 * Verify one checkpoint envelope: structure, key (role checkpoint-signer at lamport_to), signature.
 *
 * @example
 * ```ts
 * import { verifyCheckpoint } from '@helm/proofgraph/verify';
 *
 * declare const envelope: unknown;
 * declare const keys: (keyid: string, role: string, lamport: number) => Uint8Array | undefined;
 * const check = verifyCheckpoint(envelope, keys); // role checkpoint-signer at lamport_to; never throws
 * if (!check.ok) console.log(check.code, check.message);
 * ```
 */
export function verifyCheckpoint(envelope: unknown, keys: KeyLookup): CheckpointCheck {
  const decoded = openSingleSigned(envelope, CHECKPOINT_TYPE);
  if (typeof decoded === 'string') return { ok: false, code: 'MALFORMED', message: decoded };
  const problem = checkpointBodyProblem(decoded.body);
  if (problem) return { ok: false, code: 'MALFORMED', message: problem };
  const body = decoded.body as unknown as CheckpointBody;
  if (body.keyid !== decoded.keyid) return { ok: false, code: 'KEYID_MISMATCH', message: 'keyid differs' };
  const key = keys(body.keyid, CHECKPOINT_SIGNER_ROLE, body.lamport_to);
  if (!key) return { ok: false, code: 'KEY_UNKNOWN', message: `no checkpoint key ${body.keyid}` };
  if (!verifyEd25519(key, decoded.pae, decoded.sig).ok) {
    return { ok: false, code: 'SIGNATURE_INVALID', message: 'checkpoint signature does not verify' };
  }
  const env = envelope as SignedEnvelope;
  return { ok: true, checkpoint: { envelope: env, body, hash: envelopeHash(env) } };
}

export type ExtensionCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: CheckpointVerifyCode; readonly message: string };

/**
 * Check that `newer` extends `older` (both already verified): same log, no shrinking, and a valid
 * RFC 9162 consistency proof between their roots. With `direct`, `newer` must also name `older`
 * as its predecessor.
 */
export function verifyCheckpointExtension(
  older: SignedCheckpoint,
  newer: SignedCheckpoint,
  proof: readonly string[],
  options: { readonly direct?: boolean } = {},
): ExtensionCheck {
  if (older.body.log_id !== newer.body.log_id)
    return { ok: false, code: 'LOG_MISMATCH', message: 'different logs' };
  if (newer.body.tree_size < older.body.tree_size) {
    return { ok: false, code: 'SIZE_REGRESSION', message: 'the later checkpoint covers fewer leaves' };
  }
  if (
    options.direct &&
    (newer.body.prev_checkpoint_hash !== older.hash || newer.body.prev_tree_size !== older.body.tree_size)
  ) {
    return {
      ok: false,
      code: 'NOT_SUCCESSOR',
      message: 'the later checkpoint does not name the earlier one',
    };
  }
  const hashes = proof.map(digestBytes);
  const root1 = digestBytes(older.body.root_hash) as Uint8Array;
  const root2 = digestBytes(newer.body.root_hash) as Uint8Array;
  if (
    hashes.some((h) => h === undefined) ||
    !verifyConsistency(older.body.tree_size, newer.body.tree_size, root1, root2, hashes as Uint8Array[]).ok
  ) {
    return { ok: false, code: 'CONSISTENCY_INVALID', message: 'consistency proof does not verify' };
  }
  return { ok: true };
}
