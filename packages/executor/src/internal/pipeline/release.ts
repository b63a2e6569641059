// Steps 13–14 of docs/spec/pipeline.md §Algorithm for an output about to be released (an
// execution's, or a replay's stored one): the signed SUCCEEDED receipt through `finalize`, which
// hands the output back only once the receipt is durable; the admission's close; the ProofGraph
// append; then, for an execution, the budget commit and the idempotency record.
import type { ReasonCode } from '@helm/contracts/reason-codes';
import type { ReceiptStatus } from '@helm/contracts/receipt';
import type { JsonValue } from '@helm/contracts/wire';
import type { GovernedCall, MintedReceipt } from '@helm/receipts';
import type { ExecuteResult } from '../../executor.js';
import type { ReceiptPort } from '../../governance.js';
import { describeThrown } from '../describe-error.js';
import { type Admitted, type CallState, type Executed, type PipelineContext, stop } from './call.js';
import { appendToGraph, closeAdmission, endCall, resultOf, settleReservation } from './end-call.js';

/** What `releaseReceipt` answers: the receipt, or the result the call ended with instead. */
export function isMinted(released: MintedReceipt | ExecuteResult): released is MintedReceipt {
  return !('status' in released);
}

/**
 * 13–14 (first half). Returns the receipt, or the result the call ends with when any of it failed
 * (no output is released then).
 */
export async function releaseReceipt(
  ctx: PipelineContext,
  state: Admitted,
  call: GovernedCall,
  output: JsonValue,
  reason: 'ALLOW' | 'IDEMPOTENT_REPLAY',
): Promise<MintedReceipt | ExecuteResult> {
  let finalized: Awaited<ReturnType<ReceiptPort['finalize']>>;
  try {
    finalized = await ctx.receipts.finalize(
      call,
      state.admission,
      output,
      { ...state.evidence },
      { reason_code: reason },
    );
  } catch (error) {
    finalized = { released: false, reason_code: 'RECEIPT_PERSIST_FAILED', detail: describeThrown(error) };
  }
  if (!finalized.released) return endUnreleased(ctx, state, call, finalized);
  await closeAdmission(ctx, state);
  try {
    await appendToGraph(ctx, state, finalized.receipt);
  } catch (error) {
    // A FAILED receipt follows the SUCCEEDED one; no output.
    const appendFailed = `ProofGraph append failed: ${describeThrown(error)}`;
    return endCall(ctx, stop(state, 'RECEIPT_PERSIST_FAILED', appendFailed));
  }
  return finalized.receipt;
}

/**
 * `finalize` withheld the output: settle, close the admission with the failure receipt the
 * recorder wrote (if it could), no output.
 */
async function endUnreleased(
  ctx: PipelineContext,
  state: CallState,
  call: GovernedCall,
  finalized: { readonly reason_code: ReasonCode; readonly detail: string; readonly receipt?: MintedReceipt },
): Promise<ExecuteResult> {
  await settleReservation(ctx, state);
  const status: ReceiptStatus =
    finalized.receipt?.body.status ?? (state.driver === 'invoked' ? 'FAILED' : 'DENIED');
  if (finalized.receipt) {
    await closeAdmission(ctx, state);
    try {
      await appendToGraph(ctx, state, finalized.receipt);
    } catch {
      // The failure receipt is in the chain; the graph gap is visible to the validator.
    }
  }
  return resultOf(state, call, finalized.reason_code, status, finalized.receipt ?? null, {
    message: finalized.detail,
  });
}

/** 14 (second half). Commit the budget, remember the result for idempotent repeats, release the output. */
export async function commitAndRelease(
  ctx: PipelineContext,
  state: Executed,
  call: GovernedCall,
  receipt: MintedReceipt,
): Promise<ExecuteResult> {
  const reservation = state.verified.budget_reservation_id;
  if (reservation) {
    try {
      await ctx.guardian.commitBudget(reservation);
    } catch {
      // The effect happened and is receipted; a ledger failure cannot un-happen it.
    }
  }
  try {
    await ctx.idempotency.put({
      key: state.idempotency_key,
      tool: state.registered.name,
      args_hash: state.args_hash,
      receipt: receipt.envelope,
      receipt_hash: receipt.hash,
      decision_id: state.verified.decision_id,
      output: state.output,
      decision: state.evaluation.decision,
    });
  } catch {
    // Not storing only means a repeat is governed and executed again under a fresh decision.
  }
  return resultOf(state, call, 'ALLOW', 'SUCCEEDED', receipt, { output: state.output });
}
