// Step 7 of docs/spec/pipeline.md §Algorithm. The AuthorizedExecutionIntent is the signed ALLOW
// decision (docs/spec/intent.md). Everything the executor acts on from here is read from the
// verified envelope, never from the guardian's `record`.
import { DECISION_TYPE, type DecisionRecord } from '@helm/contracts/decision';
import { openVerifiedEnvelope } from '@helm/crypto/envelope';
import { type Authorized, type Evaluated, type PipelineContext, type Stop, stop } from './call.js';

/** Why the verified body cannot authorize this call at `at`, or null when it does. */
function unbound(state: Evaluated, decision: DecisionRecord, at: number): string | null {
  const { effect } = state;
  const bound =
    decision.verdict === 'ALLOW' &&
    decision.reason_code === 'ALLOW' &&
    decision.decision_id === state.evaluation.record.decision_id &&
    decision.effect_digest === state.effect_id &&
    decision.args_hash === state.args_hash &&
    decision.tool === effect.tool &&
    decision.principal === effect.principal &&
    decision.action === effect.action &&
    decision.resource === effect.resource &&
    decision.tenant === state.tenant;
  if (!bound) return 'the decision is not an ALLOW bound to this effect, args and tool';
  const expires = decision.expires_at_ms;
  if (!(Number.isSafeInteger(decision.decided_at_ms) && Number.isSafeInteger(expires))) {
    return 'the authorization times are malformed';
  }
  if (at < decision.decided_at_ms || at >= (expires as number)) {
    return 'the authorization is expired or not yet valid';
  }
  return null;
}

/** 7. Verify the decision envelope under a guardian key and bind it to the call; else INTENT_INVALID. */
export function verifyAuthorization(ctx: PipelineContext, state: Evaluated): Authorized | Stop {
  const at = ctx.now();
  let decision: DecisionRecord;
  try {
    decision = openVerifiedEnvelope<DecisionRecord & { readonly [k: string]: unknown }>(
      state.evaluation.decision,
      DECISION_TYPE,
      ctx.guardianKeys,
    ).body;
  } catch {
    return stop(state, 'INTENT_INVALID', 'the decision signature does not verify under a guardian key');
  }
  const reason = unbound(state, decision, at);
  if (reason !== null) return stop(state, 'INTENT_INVALID', reason);
  // From here on every refund, receipt and commit uses the signed values.
  return {
    ...state,
    evaluation: { decision: state.evaluation.decision, record: decision },
    verified: decision,
  };
}
