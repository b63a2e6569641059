// How a call ends without releasing a fresh output (docs/spec/pipeline.md §Algorithm, first
// paragraph): settle the budget reservation, write a receipt with the failure's reason code via
// `recordDenial`, close the admission, append the receipt's ProofGraph node, return no output.
// Also the pieces every ending shares: the receipt's call fields and the result object.

import { REASON_CODES, type ReasonCode } from '@helm/contracts/reason-codes';
import type { ReceiptStatus } from '@helm/contracts/receipt';
import type { JsonValue } from '@helm/contracts/wire';
import { canonicalDigest } from '@helm/crypto/digests';
import type { GovernedCall, MintedReceipt } from '@helm/receipts';
import type { ExecuteResult } from '../../executor.js';
import type { ReceiptPort } from '../../governance.js';
import type { SchemaErrorDetail } from '../../schema.js';
import { describeThrown } from '../describe-error.js';
import { type CallState, EXECUTOR_DENIAL_TYPE, type PipelineContext, type Stop } from './call.js';

/** The receipt status of a call that ends without releasing a fresh output. */
export type EndingStatus = 'DENIED' | 'ESCALATED' | 'FAILED';

/**
 * FAILED once the driver was invoked, whatever ended the call (the effect may have happened);
 * before that ESCALATED for a code whose registry verdict is ESCALATE, DENIED for every other.
 */
export function endingStatus(state: CallState, code: ReasonCode): EndingStatus {
  if (state.driver === 'invoked') return 'FAILED';
  return REASON_CODES[code].verdict === 'ESCALATE' ? 'ESCALATED' : 'DENIED';
}

/**
 * Settle the reservation of a call that releases no fresh output: refunded while the driver was
 * not invoked, charged once it was (I-BUDGET-1). A replay settles here too: always refunded.
 */
export async function settleReservation(ctx: PipelineContext, state: CallState): Promise<void> {
  const reservation = state.evaluation?.record.budget_reservation_id;
  if (!reservation) return;
  try {
    if (state.driver === 'invoked') await ctx.guardian.commitBudget(reservation);
    else await ctx.guardian.refundBudget(reservation);
  } catch {
    // A failing ledger must not release output or hide the receipt; the ledger reconciles.
  }
}

/** docs/spec/pipeline.md §Executor-local denial id: a call that ended before the guardian ran. */
function localDecisionId(state: CallState, code: ReasonCode, at: number): string {
  return canonicalDigest({
    type: EXECUTOR_DENIAL_TYPE,
    principal: state.principal,
    tenant: state.tenant,
    // Before the guardian ran no session is verified (I-SESSION-1).
    session_id: null,
    tool: state.tool,
    args_hash: state.args_hash,
    reason_code: code,
    at_ms: at,
  });
}

/** The call fields of the receipt a call ends with, issued at `at`. */
export function governedCall(
  ctx: PipelineContext,
  state: CallState,
  code: ReasonCode,
  at: number,
): GovernedCall {
  const record = state.evaluation?.record;
  return {
    decision_id: record?.decision_id ?? localDecisionId(state, code, at),
    effect_id: state.effect_id,
    effect_class: state.effect_class,
    args_hash: state.args_hash,
    request_digest: state.request_digest,
    // Only a session the guardian verified (a delegation presentation) is ever recorded.
    session_id: record?.session_id ?? null,
    policy_hash: record?.policy_stack_hash ?? ctx.guardian.policyHash(),
    tool: state.tool,
    principal: state.principal,
    issued_at_ms: at,
  };
}

export interface ResultExtra {
  readonly output?: JsonValue;
  readonly errors?: readonly SchemaErrorDetail[];
  readonly message?: string;
  readonly approval_challenge_id?: string | null;
}

export function resultOf(
  state: CallState,
  call: GovernedCall,
  code: ReasonCode,
  status: ReceiptStatus,
  receipt: MintedReceipt | null,
  extra: ResultExtra,
): ExecuteResult {
  const out: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
    status,
    verdict: REASON_CODES[code].verdict,
    reason_code: code,
    receipt: receipt?.envelope ?? null,
    receipt_hash: receipt?.hash ?? null,
    decision: state.evaluation?.decision ?? null,
    decision_id: call.decision_id,
    args_hash: state.args_hash,
    idempotency_key: state.idempotency_key,
    replayed: false,
    approval_challenge_id: extra.approval_challenge_id ?? null,
    admission_id: state.admission_id,
  };
  if (extra.output !== undefined) out.output = extra.output;
  if (extra.errors !== undefined) out.errors = extra.errors;
  if (extra.message !== undefined) out.message = extra.message;
  return out;
}

export async function appendToGraph(
  ctx: PipelineContext,
  state: CallState,
  receipt: MintedReceipt,
): Promise<void> {
  await ctx.proofgraph.recordReceipt({
    receipt: receipt.envelope,
    receipt_body: receipt.body,
    receipt_hash: receipt.hash,
    decision: state.evaluation?.decision ?? null,
  });
}

/** The call's receipt exists: close its admission (a persistent journal does it in the receipt's tx). */
export async function closeAdmission(ctx: PipelineContext, state: CallState): Promise<void> {
  if (state.admission_id === null) return;
  try {
    await ctx.journal.complete(state.admission_id);
  } catch {
    // The receipt is recorded; the embedding's transaction (or recovery) closes the entry.
  }
}

/** End the call with its failure: settle the budget, a signed receipt, no output. */
export async function endCall(ctx: PipelineContext, { state, failure }: Stop): Promise<ExecuteResult> {
  await settleReservation(ctx, state);
  const at = ctx.now();
  const status = endingStatus(state, failure.code);
  const verdict = REASON_CODES[failure.code].verdict;
  const call = governedCall(ctx, state, failure.code, at);
  let recorded: Awaited<ReturnType<ReceiptPort['recordDenial']>>;
  try {
    recorded = await ctx.receipts.recordDenial({
      ...call,
      status,
      verdict: verdict === 'ALLOW' ? 'DENY' : verdict,
      reason_code: failure.code,
      evidence: { ...state.evidence },
    });
  } catch (error) {
    recorded = { persisted: false, detail: describeThrown(error) };
  }
  if (!recorded.persisted) {
    // An admitted call keeps its journal entry: recovery will receipt it.
    return resultOf(state, call, 'RECEIPT_PERSIST_FAILED', status, null, {
      message: `${failure.code}: ${failure.message}; the receipt could not be persisted: ${recorded.detail}`,
    });
  }
  await closeAdmission(ctx, state);
  try {
    await appendToGraph(ctx, state, recorded.receipt);
  } catch (error) {
    return resultOf(state, call, 'RECEIPT_PERSIST_FAILED', status, recorded.receipt, {
      message: `${failure.message}; ProofGraph append failed: ${describeThrown(error)}`,
    });
  }
  return resultOf(state, call, failure.code, status, recorded.receipt, {
    message: failure.message,
    ...(failure.errors ? { errors: failure.errors } : {}),
    ...(failure.challenge !== undefined ? { approval_challenge_id: failure.challenge } : {}),
  });
}
