// Which policy rule a decision came from, for the people reading a result (`helmts run --json`:
// `rule`). The signed decision names the stage that decided (`decided_by`) and the reason code, not
// the rule; the rule is found by evaluating the guardian's policy stack again for the same call —
// stack evaluation is a pure function of the call — right after the guardian decided it. This is
// an explanation only: nothing signed, stored or authorized depends on it.
//
// The policy stage evaluates the call's *authority*: for a delegated call that is the delegator,
// which only the guardian's delegation stage knows, so no rule is named for delegated calls.
import type { Evaluation, ExecutorCall, Guardian } from '@helm/guardian';

type Port = ReturnType<Guardian['asExecutorPort']>;

/** Rules kept for results not yet taken (calls run concurrently; the oldest are dropped). */
const MAX_PENDING = 1024;

/** A guardian port that remembers the policy rule of each decision it returned, by decision id. */
export class ExplainingPort {
  readonly port: Port;
  readonly #rules = new Map<string, string | null>();

  constructor(guardian: Guardian) {
    const inner = guardian.asExecutorPort();
    this.port = {
      ...inner,
      evaluate: (call: ExecutorCall): Evaluation => {
        const evaluation = inner.evaluate(call);
        this.#rules.set(evaluation.record.decision_id, ruleOf(guardian, call, evaluation));
        if (this.#rules.size > MAX_PENDING) this.#rules.delete(this.#rules.keys().next().value as string);
        return evaluation;
      },
    };
  }

  /** The rule of the decision `decisionId` (null: none, or not known), and forget it. */
  take(decisionId: string): string | null {
    const rule = this.#rules.get(decisionId) ?? null;
    this.#rules.delete(decisionId);
    return rule;
  }
}

/** Stages that run at or after the policy stage: their decisions have a policy outcome. */
const AFTER_POLICY = new Set(['policy', 'budget', 'approval']);

function ruleOf(guardian: Guardian, call: ExecutorCall, evaluation: Evaluation): string | null {
  try {
    if (!AFTER_POLICY.has(evaluation.record.decided_by)) return null;
    const stack = guardian.policyStack;
    const context = (call.context ?? {}) as { delegation?: unknown; attributes?: unknown };
    if (!stack || context.delegation !== undefined) return null;
    const outcome = stack.evaluate({
      principal: call.principal,
      tenant: call.tenant,
      tool: call.tool,
      action: call.action,
      resource: call.resource,
      effect_type: call.effect_type,
      risk_tier: call.risk_tier,
      args: call.args,
      context: (context.attributes ?? {}) as Record<string, unknown>,
    });
    // An escalation is the doing of the rule that requires the approval.
    if (outcome.allowed && evaluation.record.verdict === 'ESCALATE' && outcome.approval)
      return outcome.approval.rule_id;
    return outcome.rule_id;
  } catch {
    return null;
  }
}
