// Adapter from the real @helm/guardian to the executor's GuardianPort. The executor turns a pinned
// descriptor + canonical args into a guardian DecisionRequest; the egress destination always comes
// from the descriptor (a caller-supplied `context.destination` is discarded), so Gate 3 checks
// exactly where the driver will connect. Budgets are committed/refunded on the same ledger the
// guardian reserves on; grants are consumed through the guardian's approval ceremonies.
import { canonicalBytes, digest } from '@helm/crypto';
import type { BudgetLedger, DecisionContext, DecisionRequest, Guardian } from '@helm/guardian';
import type { GrantToConsume, GuardianCall, GuardianEvaluation, GuardianPort } from './governance.js';

export interface GuardianPortOptions {
  readonly guardian: Guardian;
  /** The ledger the guardian was constructed with (needed to commit/refund reservations). */
  readonly budget: BudgetLedger;
}

/** Policy hash the guardian records when no stack is loaded (mirrors its unconfigured stack hash). */
const UNCONFIGURED_STACK_HASH = digest(canonicalBytes({ p0: null, p1: [], p2: [] }));

function contextFor(call: GuardianCall): DecisionContext {
  const given = (typeof call.context === 'object' && call.context !== null ? call.context : {}) as Record<
    string,
    unknown
  >;
  const { destination: _ignored, ...rest } = given;
  return (call.destination ? { ...rest, destination: call.destination } : rest) as unknown as DecisionContext;
}

export function guardianPort(options: GuardianPortOptions): GuardianPort {
  const { guardian, budget } = options;
  return {
    evaluate(call: GuardianCall): GuardianEvaluation {
      const request: DecisionRequest = {
        principal: call.principal,
        tenant: call.tenant,
        tool: call.tool,
        action: call.action,
        resource: call.resource,
        effect_type: call.effect_type,
        risk_tier: call.risk_tier,
        args: call.args,
        args_hash: call.args_hash,
        cost: call.cost,
        context: contextFor(call),
      };
      const evaluation = guardian.evaluate(request);
      return { decision: evaluation.decision, record: evaluation.record, intent: evaluation.intentEnvelope };
    },
    consumeGrant(grant: GrantToConsume): boolean {
      if (!guardian.approvals) return false;
      guardian.approvals.consumeGrant(grant.grant_id, grant.effect_digest, grant.args_hash);
      return true;
    },
    commitBudget(reservationId: string): void {
      budget.commit(reservationId);
    },
    refundBudget(reservationId: string): void {
      budget.refund(reservationId);
    },
    policyHash(): string {
      return guardian.policyStack?.stackHash ?? UNCONFIGURED_STACK_HASH;
    },
  };
}
