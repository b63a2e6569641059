// Steps 8 and 8b of docs/spec/pipeline.md §Algorithm: receipt-policy admission, then the
// write-ahead admission journal (§Admission journal), both before anything can have an effect.
import { ADMISSION_TYPE, type AdmissionEntry } from '../../journal.js';
import { describeThrown } from '../describe-error.js';
import { type Admitted, type Journaled, type Keyed, type PipelineContext, type Stop, stop } from './call.js';

/** 8. The receipt policy of the tool's effect class admits the call (fail closed: a throw is a missing policy). */
export function admitToReceiptPolicy(ctx: PipelineContext, state: Keyed): Admitted | Stop {
  const verified = state.verified;
  const approvalIds = verified.approval_grant_id === null ? [] : [verified.approval_grant_id];
  let admission: ReturnType<typeof ctx.receipts.admit>;
  try {
    admission = ctx.receipts.admit(state.registered.descriptor.effect_type, {
      idempotency_key: state.idempotency_key,
      approval_ids: approvalIds,
    });
  } catch (error) {
    return stop(state, 'RECEIPT_POLICY_MISSING', describeThrown(error));
  }
  if (!admission.ok) return stop(state, admission.reason_code, admission.detail);
  return { ...state, admission };
}

/** 8b. Journal the admission durably; from then on the call is admitted (its driver may run). */
export async function journalAdmission(ctx: PipelineContext, state: Admitted): Promise<Journaled | Stop> {
  const verified = state.verified;
  const entry: AdmissionEntry = {
    type: ADMISSION_TYPE,
    // One value, two names: an admission is identified by the decision that authorized it (a
    // decision authorizes one execution). Recovery receipts an entry only when both equal the
    // verified decision's id (I-RECOVERY-1); the journal format keeps both fields.
    admission_id: verified.decision_id,
    decision_id: verified.decision_id,
    principal: state.principal,
    tenant: state.tenant,
    session_id: verified.session_id,
    tool: state.registered.name,
    effect_class: state.effect_class,
    effect_id: state.effect_id,
    args_hash: state.args_hash,
    request_digest: state.request_digest,
    idempotency_key: state.idempotency_key,
    policy_hash: verified.policy_stack_hash,
    budget_reservation_id: verified.budget_reservation_id,
    admitted_at_ms: ctx.now(),
    decision: state.evaluation.decision,
    evidence: { ...state.evidence },
  };
  try {
    await ctx.journal.admit(entry);
  } catch (error) {
    return stop(
      state,
      'RECEIPT_PERSIST_FAILED',
      `the admission could not be journaled: ${describeThrown(error)}`,
    );
  }
  return { ...state, admission_id: entry.admission_id };
}
