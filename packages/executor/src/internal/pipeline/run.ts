// One governed call, step by step (docs/spec/pipeline.md §Algorithm). Each step takes the state
// the previous one produced and returns the next state or a Stop; a Stop ends the call through
// `endCall` (a signed receipt with the failure's code, no output).
import type { ExecuteRequest, ExecuteResult } from '../../executor.js';
import { describeThrown } from '../describe-error.js';
import { admitToReceiptPolicy, journalAdmission } from './admission.js';
import { consumeApproval } from './approval.js';
import { verifyAuthorization } from './authorize.js';
import { type CallState, isStop, type PipelineContext, type Prepared, stop } from './call.js';
import { canonicalArgs } from './canonical-args.js';
import { invokeDriver } from './driver.js';
import { endCall, governedCall } from './end-call.js';
import { askGuardian } from './guardian.js';
import { findStoredResult, replayStored } from './idempotency.js';
import { checkInputSchema } from './input-schema.js';
import { checkOutput } from './output.js';
import { commitAndRelease, isMinted, releaseReceipt } from './release.js';
import { readCall } from './request.js';
import { inQueueTurn, queueKey } from './serialize.js';
import { checkPin, lookUpTool } from './surface.js';

/**
 * Steps 5–14, in the call's turn of its queue. `latest` is the last state a step returned: an
 * unexpected throw (defensive; no step is meant to throw) ends the call in it — FAILED and charged
 * when the driver had been invoked, since the state, not this handler, knows.
 */
async function governed(ctx: PipelineContext, prepared: Prepared): Promise<ExecuteResult> {
  let latest: CallState = prepared;
  try {
    const evaluated = await askGuardian(ctx, prepared); // 5
    if (isStop(evaluated)) return await endCall(ctx, evaluated);
    latest = evaluated;
    const checked = checkInputSchema(evaluated); // 6
    if (isStop(checked)) return await endCall(ctx, checked);
    const authorized = verifyAuthorization(ctx, checked); // 7
    if (isStop(authorized)) return await endCall(ctx, authorized);
    latest = authorized;
    const keyed = await findStoredResult(ctx, authorized); // 7b
    if (isStop(keyed)) return await endCall(ctx, keyed);
    latest = keyed;
    if (keyed.stored !== null) return await replayStored(ctx, keyed, keyed.stored);
    const admitted = admitToReceiptPolicy(ctx, keyed); // 8
    if (isStop(admitted)) return await endCall(ctx, admitted);
    const journaled = await journalAdmission(ctx, admitted); // 8b
    if (isStop(journaled)) return await endCall(ctx, journaled);
    latest = journaled;
    const granted = await consumeApproval(ctx, journaled); // 9
    if (isStop(granted)) return await endCall(ctx, granted);
    const returned = await invokeDriver(ctx, granted); // 10
    if (isStop(returned)) return await endCall(ctx, returned);
    latest = returned;
    const executed = checkOutput(returned); // 11–12
    if (isStop(executed)) return await endCall(ctx, executed);
    latest = executed;
    const call = governedCall(ctx, executed, 'ALLOW', ctx.now());
    const receipt = await releaseReceipt(ctx, executed, call, executed.output, 'ALLOW'); // 13–14
    if (!isMinted(receipt)) return receipt;
    return await commitAndRelease(ctx, executed, call, receipt); // 14
  } catch (error) {
    return endCall(ctx, stop(latest, 'INTERNAL_ERROR', describeThrown(error)));
  }
}

/** Steps 1–3, before the call takes its queue turn; `latest` as in `governed`. */
async function surfaceAndArgs(ctx: PipelineContext, initial: CallState): Promise<Prepared | ExecuteResult> {
  let latest: CallState = initial;
  try {
    const surfaced = lookUpTool(ctx, initial); // 1
    if (isStop(surfaced)) return await endCall(ctx, surfaced);
    latest = surfaced;
    const pinned = await checkPin(ctx, surfaced); // 2
    if (isStop(pinned)) return await endCall(ctx, pinned);
    const prepared = canonicalArgs(pinned); // 3
    if (isStop(prepared)) return await endCall(ctx, prepared);
    return prepared;
  } catch (error) {
    return endCall(ctx, stop(latest, 'INTERNAL_ERROR', describeThrown(error)));
  }
}

/** Run one governed call through the whole pipeline. Throws only for an unattributable request. */
export async function executeCall(ctx: PipelineContext, request: ExecuteRequest): Promise<ExecuteResult> {
  const prepared = await surfaceAndArgs(ctx, readCall(request)); // 0–3
  if (!('prepared' in prepared)) return prepared;
  return inQueueTurn(ctx.queues, queueKey(prepared), () => governed(ctx, prepared)); // 4
}
