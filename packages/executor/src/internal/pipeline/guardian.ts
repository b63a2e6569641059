// Step 5 of docs/spec/pipeline.md §Algorithm: the Effect from the pinned descriptor, and the
// guardian's decision on the call (gates 0–5, effect, policy, budget, approval).
import { isReasonCode, REASON_CODES } from '@helm/contracts/reason-codes';
import { effectDigest } from '@helm/crypto/digests';
import { buildEffect, egressDestination } from '../../effect.js';
import type { GuardianEvaluation } from '../../governance.js';
import { describeThrown } from '../describe-error.js';
import {
  type Evaluated,
  type PipelineContext,
  type Prepared,
  type Stop,
  stop,
  withEvidence,
} from './call.js';

/** 5. Ask the guardian; anything but a consistent ALLOW ends the call with the decision's code. */
export async function askGuardian(ctx: PipelineContext, state: Prepared): Promise<Evaluated | Stop> {
  const { descriptor } = state.registered;
  const { prepared } = state;
  const effect = buildEffect(descriptor, state.principal, prepared.value, prepared.args_hash);
  const digestOfEffect = effectDigest(effect);
  let evaluation: GuardianEvaluation;
  try {
    evaluation = await ctx.guardian.evaluate({
      principal: state.principal,
      tenant: state.tenant,
      tool: state.registered.name,
      action: effect.action,
      resource: effect.resource,
      effect_type: effect.effect_type,
      risk_tier: effect.risk_tier,
      cost: descriptor.cost ?? 1,
      destination: egressDestination(descriptor, prepared.canonical_bytes),
      args: prepared.value,
      args_hash: prepared.args_hash,
      effect,
      effect_digest: digestOfEffect,
      context: state.context,
    });
  } catch (error) {
    const built = { ...state, effect_id: digestOfEffect };
    return stop(built, 'INTERNAL_ERROR', `the guardian failed: ${describeThrown(error)}`);
  }
  const evaluated: Evaluated = { ...state, effect, effect_id: digestOfEffect, evaluation };
  const record = evaluation.record;
  if (record.verdict === 'ALLOW' && record.reason_code === 'ALLOW') return evaluated;
  // The recorded code must belong to the recorded verdict; anything else fails closed.
  const consistent =
    isReasonCode(record.reason_code) &&
    record.verdict !== 'ALLOW' &&
    REASON_CODES[record.reason_code].verdict === record.verdict;
  if (!consistent) return stop(evaluated, 'INTERNAL_ERROR', 'inconsistent guardian verdict');
  if (record.verdict !== 'ESCALATE') return stop(evaluated, record.reason_code, 'denied by the guardian');
  const challenge = record.approval_challenge_id;
  const held = challenge ? withEvidence(evaluated, 'approval_challenge_id', challenge) : evaluated;
  return {
    stop: true,
    state: held,
    failure: { code: record.reason_code, message: 'held for approval', challenge },
  };
}
