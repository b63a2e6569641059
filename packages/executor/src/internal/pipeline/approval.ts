// Step 9 of docs/spec/pipeline.md §Algorithm: the decision's approval grant is consumed (single use)
// as execution starts — and by a replay, which needs a quorum now as the original did.
import { type Admitted, type PipelineContext, type Stop, stop } from './call.js';

/** 9. Consume the grant the verified decision names, if any; else APPROVAL_INVALID. */
export async function consumeApproval<S extends Admitted>(ctx: PipelineContext, state: S): Promise<S | Stop> {
  const verified = state.verified;
  if (verified.approval_grant_id === null) return state;
  let consumed: boolean;
  try {
    consumed = await ctx.guardian.consumeGrant({
      grant_id: verified.approval_grant_id,
      decision_id: verified.decision_id,
      effect_digest: verified.effect_digest as string,
      args_hash: verified.args_hash,
      tenant: verified.tenant,
      principal: verified.principal,
      tool: verified.tool,
    });
  } catch {
    consumed = false;
  }
  return consumed === true ? state : stop(state, 'APPROVAL_INVALID', 'the approval grant is not consumable');
}
