// Step 7b of docs/spec/pipeline.md §Algorithm and §Idempotency: the key of the call's stored
// result, computed from what the guardian just authenticated and authorized, and the replay of a
// stored result — found only now, by a call that passed the full gate chain.
import type { DecisionRecord } from '@helm/contracts/decision';
import type { JsonValue } from '@helm/contracts/wire';
import { digest } from '@helm/crypto/hash';
import { canonicalize } from '@helm/crypto/jcs';
import { receiptHash } from '@helm/receipts';
import type { ExecuteResult } from '../../executor.js';
import { clientIdempotencyKey, deriveIdempotencyKey, type IdempotencyRecord } from '../../idempotency.js';
import { describeThrown } from '../describe-error.js';
import { deepFreeze } from '../frozen.js';
import { admitToReceiptPolicy } from './admission.js';
import { consumeApproval } from './approval.js';
import {
  type Authorized,
  isStop,
  type Keyed,
  type PipelineContext,
  type Stop,
  stop,
  withEvidence,
} from './call.js';
import { endCall, governedCall, resultOf, settleReservation } from './end-call.js';
import { isMinted, releaseReceipt } from './release.js';

const encoder = new TextEncoder();

/**
 * The key of a call's stored result, from the verified decision: the principal the guardian
 * authenticated, the tenant and session it authorized (I-REPLAY-2).
 */
function idempotencyKeyOf(clientKey: string | null, decision: DecisionRecord): string {
  return clientKey !== null
    ? clientIdempotencyKey({
        principal: decision.principal,
        tenant: decision.tenant,
        session: decision.session_id,
        client_key: clientKey,
      })
    : deriveIdempotencyKey({
        principal: decision.principal,
        tenant: decision.tenant,
        tool: decision.tool,
        args_hash: decision.args_hash,
        session: decision.session_id,
      });
}

/** 7b. The call's key (as evidence) and its stored result, if any; a key reused with other args conflicts. */
export async function findStoredResult(ctx: PipelineContext, state: Authorized): Promise<Keyed | Stop> {
  const key = idempotencyKeyOf(state.client_key, state.verified);
  const evidence = { ...state.evidence, idempotency_key: key };
  const keyed: Keyed = { ...state, idempotency_key: key, evidence, stored: null };
  let stored: IdempotencyRecord | undefined;
  try {
    stored = await ctx.idempotency.get(key);
  } catch (error) {
    return stop(keyed, 'INTERNAL_ERROR', `the idempotency store failed: ${describeThrown(error)}`);
  }
  if (stored && (stored.tool !== state.registered.name || stored.args_hash !== state.args_hash)) {
    return stop(keyed, 'IDEMPOTENCY_CONFLICT', 'the key was already used with different arguments');
  }
  return stored ? { ...keyed, stored } : keyed;
}

/**
 * A stored result is released only as what its own receipt signed: the SUCCEEDED receipt of this
 * key, tool, args and principal, whose output_hash is the hash of the stored output. Anything
 * else (an edited row, a row moved to another key) releases nothing: null.
 */
function storedOutput(
  ctx: PipelineContext,
  stored: IdempotencyRecord,
  key: string,
  decision: DecisionRecord,
): { readonly output: JsonValue; readonly receipt_id: string } | null {
  try {
    // The stored receipt must verify under the receipt signer's key (full Ed25519): its hash
    // alone (a digest of the signature bytes) says nothing about the payload (I-REPLAY-2).
    const body = ctx.receipts.verifyOwn(stored.receipt);
    if (!body || receiptHash(stored.receipt) !== stored.receipt_hash) return null;
    const text = canonicalize(stored.output);
    const bound =
      body.status === 'SUCCEEDED' &&
      body.reason_code === 'ALLOW' &&
      body.tool === decision.tool &&
      body.principal === decision.principal &&
      body.args_hash === decision.args_hash &&
      body.session_id === decision.session_id &&
      body.evidence.idempotency_key === key &&
      body.output_hash === digest(encoder.encode(text));
    if (!bound) return null;
    return { output: deepFreeze(JSON.parse(text) as JsonValue), receipt_id: body.receipt_id };
  } catch {
    return null;
  }
}

/**
 * Release the stored result of an earlier identical call to a repeat the guardian just allowed:
 * step 8's admission and step 9's grant as for an execution, then no driver: its own SUCCEEDED
 * receipt (reason IDEMPOTENT_REPLAY, evidence.replay_of = the original receipt id, the original's
 * output_hash), the reservation refunded (a replay is never charged), no admission entry.
 */
export async function replayStored(
  ctx: PipelineContext,
  state: Keyed,
  stored: IdempotencyRecord,
): Promise<ExecuteResult> {
  const original = storedOutput(ctx, stored, state.idempotency_key, state.verified);
  if (original === null) {
    const invalid = 'the stored result does not match its original receipt';
    return endCall(ctx, stop(state, 'IDEMPOTENCY_RECORD_INVALID', invalid));
  }
  const replaying = withEvidence(state, 'replay_of', original.receipt_id);
  const admitted = admitToReceiptPolicy(ctx, replaying);
  if (isStop(admitted)) return endCall(ctx, admitted);
  const granted = await consumeApproval(ctx, admitted);
  if (isStop(granted)) return endCall(ctx, granted);
  const call = governedCall(ctx, granted, 'IDEMPOTENT_REPLAY', ctx.now());
  const receipt = await releaseReceipt(ctx, granted, call, original.output, 'IDEMPOTENT_REPLAY');
  if (!isMinted(receipt)) return receipt;
  await settleReservation(ctx, granted); // the driver was not invoked: refunded
  const released = resultOf(granted, call, 'IDEMPOTENT_REPLAY', 'SUCCEEDED', receipt, {
    output: original.output,
  });
  return { ...released, replayed: true };
}
