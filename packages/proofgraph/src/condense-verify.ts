// Verifying a (partly) condensed receipt history against its signed checkpoints (normative:
// docs/spec/condensed-entry.md §Verification). Condensing is condense.ts.
import { CONDENSED_ENTRY_FIELDS, CONDENSED_ENTRY_TYPE, type CondensedEntry } from '@helm/contracts/condensed';
import { RISK_TIERS, type RiskTier } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { CHAIN_ID_PATTERN, RECEIPT_GENESIS_PREV_HASH } from '@helm/contracts/receipt';
import { digestBytes, digestOfRaw, isDigest } from '@helm/crypto/hash';
import { isSafeInt } from '@helm/crypto/json';
import { type SignedCheckpoint, verifyCheckpoint, verifyCheckpointExtension } from './checkpoint.js';
import { fieldsProblem } from './internal/envelope.js';
import type { KeyLookup } from './keys.js';
import { logLeafHash } from './log-leaf.js';
import { rootFromInclusionProof } from './merkle-verify.js';

/** One item of a condensed history: a full receipt envelope, or a condensed entry. */
export type HistoryItem = SignedEnvelope | CondensedEntry;

/** What the caller's receipt verifier returns (`verifyReceipt` of @helm/receipts has this shape). */
export type ReceiptVerifierPort = (envelope: unknown) =>
  | {
      readonly ok: true;
      readonly summary: {
        readonly hash: string;
        readonly chain_id: string;
        readonly lamport: number;
        readonly prev_hash: string;
        readonly risk_tier: RiskTier;
      };
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface CondensedHistoryInput {
  /** The chain id (= log id). */
  readonly logId: string;
  readonly history: readonly unknown[];
  /** Checkpoint envelopes of this log, oldest first, each the direct successor of the previous. */
  readonly checkpoints: readonly unknown[];
  /** consistency[i]: proof from checkpoints[i] to checkpoints[i + 1] (digest strings). */
  readonly consistency: readonly (readonly string[])[];
  /** Keys for checkpoint signatures. */
  readonly keys: KeyLookup;
  /** Verifies one full receipt (signature, structure); links are checked here. */
  readonly verifyReceipt: ReceiptVerifierPort;
}

export type CondensedVerifyCode =
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_CHAIN_BROKEN'
  | 'CHECKPOINT_RANGE_INVALID'
  | 'CONSISTENCY_INVALID'
  | 'RECEIPT_INVALID'
  | 'CONDENSED_MALFORMED'
  | 'CONDENSED_TIER_FORBIDDEN'
  | 'CHECKPOINT_UNKNOWN'
  | 'LEAF_HASH_MISMATCH'
  | 'INCLUSION_INVALID'
  | 'POSITION_MISMATCH'
  | 'CHAIN_BROKEN';

export type CondensedVerifyResult =
  | {
      readonly ok: true;
      readonly count: number;
      readonly condensed: number;
      readonly head: { readonly lamport: number; readonly hash: string };
      /** Hashes of checkpoints that cover HIGH receipts: anchor them externally. */
      readonly anchor: string[];
    }
  | {
      readonly ok: false;
      readonly code: CondensedVerifyCode;
      /** 'checkpoint': index into checkpoints; 'history': index into history. */
      readonly where: 'checkpoint' | 'history';
      readonly index: number;
      readonly message: string;
    };

const LOG_ID = new RegExp(CHAIN_ID_PATTERN);

function condensedProblem(e: Record<string, unknown>): string | undefined {
  const f = fieldsProblem(e, CONDENSED_ENTRY_FIELDS);
  if (f) return f;
  if (e.type !== CONDENSED_ENTRY_TYPE) return 'type';
  if (typeof e.log_id !== 'string' || !LOG_ID.test(e.log_id)) return 'log_id';
  if (!isSafeInt(e.leaf_index, 0) || !isSafeInt(e.lamport, 1) || !isSafeInt(e.tree_size, 1)) return 'numbers';
  if (
    !isDigest(e.entry_hash) ||
    !isDigest(e.prev_hash) ||
    !isDigest(e.leaf_hash) ||
    !isDigest(e.checkpoint_hash)
  )
    return 'digests';
  if (!(RISK_TIERS as readonly unknown[]).includes(e.risk_tier)) return 'risk_tier';
  if (
    !Array.isArray(e.inclusion_proof) ||
    e.inclusion_proof.length > 64 ||
    !e.inclusion_proof.every(isDigest)
  )
    return 'inclusion_proof';
  return undefined;
}

type Failure = Extract<CondensedVerifyResult, { ok: false }>;

function fail(where: Failure['where'], code: CondensedVerifyCode, index: number, message: string): Failure {
  return { ok: false, code, where, index, message };
}

/** Step 1: the checkpoint chain, each checkpoint the direct successor of the previous one. */
function verifyCheckpointChain(
  input: CondensedHistoryInput,
):
  | Failure
  | { readonly ok: true; readonly byHash: Map<string, SignedCheckpoint>; readonly anchor: string[] } {
  const byHash = new Map<string, SignedCheckpoint>();
  const anchor: string[] = [];
  let prev: SignedCheckpoint | undefined;
  for (let i = 0; i < input.checkpoints.length; i++) {
    const check = verifyCheckpoint(input.checkpoints[i], input.keys);
    if (!check.ok) return fail('checkpoint', 'CHECKPOINT_INVALID', i, `${check.code}: ${check.message}`);
    const cp = check.checkpoint;
    if (cp.body.log_id !== input.logId)
      return fail('checkpoint', 'CHECKPOINT_INVALID', i, 'checkpoint of another log');
    if (cp.body.lamport_from !== cp.body.prev_tree_size + 1 || cp.body.lamport_to !== cp.body.tree_size) {
      return fail(
        'checkpoint',
        'CHECKPOINT_RANGE_INVALID',
        i,
        'lamport range must be prev_tree_size+1 .. tree_size',
      );
    }
    if (prev) {
      const ext = verifyCheckpointExtension(prev, cp, input.consistency[i - 1] ?? [], { direct: true });
      if (!ext.ok) {
        const code = ext.code === 'CONSISTENCY_INVALID' ? 'CONSISTENCY_INVALID' : 'CHECKPOINT_CHAIN_BROKEN';
        return fail('checkpoint', code, i, ext.message);
      }
    } else if (cp.body.prev_tree_size !== 0) {
      return fail('checkpoint', 'CHECKPOINT_CHAIN_BROKEN', i, 'the first checkpoint must start the log');
    }
    if (cp.body.anchor_required) anchor.push(cp.hash);
    byHash.set(cp.hash, cp);
    prev = cp;
  }
  return { ok: true, byHash, anchor };
}

/**
 * Step 2 for a condensed entry at history position `i`: well formed, LOW, at its position, its leaf
 * included under a verified checkpoint. Its link to the previous entry is checked by the caller.
 */
function verifyCondensedEntry(
  item: Record<string, unknown>,
  i: number,
  input: CondensedHistoryInput,
  byHash: ReadonlyMap<string, SignedCheckpoint>,
): Failure | { readonly ok: true; readonly entry: CondensedEntry } {
  const problem = condensedProblem(item);
  if (problem) return fail('history', 'CONDENSED_MALFORMED', i, problem);
  const e = item as unknown as CondensedEntry;
  if (e.risk_tier !== 'LOW')
    return fail('history', 'CONDENSED_TIER_FORBIDDEN', i, `${e.risk_tier} receipts are never condensed`);
  if (e.log_id !== input.logId || e.leaf_index !== i || e.lamport !== i + 1) {
    return fail('history', 'POSITION_MISMATCH', i, 'condensed entry is not at its position in the log');
  }
  const cp = byHash.get(e.checkpoint_hash);
  if (!cp || cp.body.tree_size !== e.tree_size)
    return fail('history', 'CHECKPOINT_UNKNOWN', i, 'unknown checkpoint');
  const leaf = logLeafHash({
    entry_hash: e.entry_hash,
    prev_hash: e.prev_hash,
    lamport: e.lamport,
    risk_tier: e.risk_tier,
  });
  if (digestOfRaw(leaf) !== e.leaf_hash)
    return fail('history', 'LEAF_HASH_MISMATCH', i, 'leaf_hash is not the entry');
  const proof = e.inclusion_proof.map(digestBytes) as Uint8Array[];
  const root = rootFromInclusionProof(e.leaf_index, e.tree_size, leaf, proof);
  if (!root || digestOfRaw(root) !== cp.body.root_hash) {
    return fail('history', 'INCLUSION_INVALID', i, 'inclusion proof does not lead to the checkpoint root');
  }
  return { ok: true, entry: e };
}

/** Verify a (partly) condensed receipt history end to end against its signed checkpoints. */
export function verifyCondensedHistory(input: CondensedHistoryInput): CondensedVerifyResult {
  const chain = verifyCheckpointChain(input);
  if (!chain.ok) return chain;
  // 2. The history, position by position.
  let headHash = RECEIPT_GENESIS_PREV_HASH;
  let condensed = 0;
  for (let i = 0; i < input.history.length; i++) {
    const item = input.history[i] as Record<string, unknown> | null;
    let prevHash: string;
    let hash: string;
    if (typeof item === 'object' && item !== null && item.type === CONDENSED_ENTRY_TYPE) {
      const r = verifyCondensedEntry(item, i, input, chain.byHash);
      if (!r.ok) return r;
      ({ prev_hash: prevHash, entry_hash: hash } = r.entry);
      condensed++;
    } else {
      const r = input.verifyReceipt(item);
      if (!r.ok) return fail('history', 'RECEIPT_INVALID', i, `${r.code}: ${r.message}`);
      const s = r.summary;
      if (s.chain_id !== input.logId || s.lamport !== i + 1) {
        return fail('history', 'POSITION_MISMATCH', i, 'receipt is not at its position in the chain');
      }
      ({ prev_hash: prevHash, hash } = s);
    }
    if (prevHash !== headHash)
      return fail('history', 'CHAIN_BROKEN', i, 'prev_hash does not name the previous entry');
    headHash = hash;
  }
  return {
    ok: true,
    count: input.history.length,
    condensed,
    head: { lamport: input.history.length, hash: headHash },
    anchor: chain.anchor,
  };
}
