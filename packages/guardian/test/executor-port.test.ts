// The executor-facing port: evaluateCall (destination from the pinned descriptor), grants, budgets.
import { DECISION_TYPE, type DecisionRecord } from '@helm/contracts';
import { canonicalBytes, digest, openVerifiedEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { FINGERPRINT, harness, request } from './fixtures.ts';

function call(over: Record<string, unknown> = {}) {
  const r = request({ tool: 'http', effect_type: 'net.egress', resource: 'https://api.example.com/x' });
  return {
    principal: r.principal,
    tenant: null,
    tool: r.tool,
    action: r.action,
    resource: r.resource,
    effect_type: r.effect_type,
    risk_tier: r.risk_tier,
    cost: 1,
    destination: { host: 'api.example.com', protocol: 'https', payload_bytes: 10 },
    args: r.args,
    args_hash: r.args_hash,
    context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
    ...over,
  };
}

describe('executor port', () => {
  it('uses the descriptor destination, never the caller-supplied one', () => {
    const { guardian } = harness();
    const port = guardian.asExecutorPort();
    const ok = port.evaluate(
      call({
        context: {
          environment_fingerprint: FINGERPRINT,
          credential_id: 'cred-alice',
          destination: { host: 'evil.com', protocol: 'https', payload_bytes: 1 },
        },
      }),
    );
    expect(ok.record.reason_code).toBe('ALLOW');
    expect(ok.effect!.destination).toBe('api.example.com');
    const bad = port.evaluate(
      call({ destination: { host: 'evil.com', protocol: 'https', payload_bytes: 1 } }),
    );
    expect(bad.record.reason_code).toBe('GATE_EGRESS_DENIED');
    const none = port.evaluate(
      call({
        destination: null,
        context: {
          environment_fingerprint: FINGERPRINT,
          credential_id: 'cred-alice',
          destination: { host: 'api.example.com', protocol: 'https', payload_bytes: 1 },
        },
      }),
    );
    expect(none.record.reason_code).toBe('GATE_EGRESS_DENIED');
    // no context: no fingerprint for stage 1 (its denial, not ARGS_MALFORMED)
    expect(port.evaluate(call({ context: null })).record.reason_code).toBe('GATE_CONTEXT_MISMATCH');
    expect(port.policyHash()).toBe(guardian.policyStack!.stackHash);
    // the executor verifies the signed ALLOW decision itself: it carries the authorization fields
    const decision = openVerifiedEnvelope<DecisionRecord>(
      ok.decision,
      DECISION_TYPE,
      guardian.publicKeys,
    ).body;
    expect(decision).toStrictEqual(ok.record);
    expect(decision.verdict).toBe('ALLOW');
    expect(decision.effect_digest).toBe(digest(canonicalBytes(ok.effect)));
    expect(ok.record.expires_at_ms).toBe(ok.record.decided_at_ms + 30_000);
    expect(ok.record.approval_grant_id).toBeNull();
    expect(bad.record.expires_at_ms).toBeNull();
  });

  it('commits and refunds budgets; consumes grants once', () => {
    const { guardian, ledger } = harness();
    const port = guardian.asExecutorPort();
    const a = port.evaluate(call());
    const b = port.evaluate(call({ args: { n: 2 }, args_hash: request({ args: { n: 2 } }).args_hash }));
    port.commitBudget(a.record.budget_reservation_id!);
    port.refundBudget(b.record.budget_reservation_id!);
    expect(ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
    expect(
      port.consumeGrant({
        grant_id: 'nope',
        decision_id: a.record.decision_id,
        effect_digest: a.record.effect_digest!,
        args_hash: a.record.args_hash,
        tenant: null,
        principal: 'alice',
        tool: 'http',
      }),
    ).toBe(false);
  });

  it('fails closed without the backing stores', () => {
    const { guardian } = harness({ budget: undefined, approvals: undefined, policy: undefined });
    const grant = {
      grant_id: 'x',
      decision_id: 'd',
      effect_digest: 'y',
      args_hash: 'z',
      tenant: null,
      principal: 'alice',
      tool: 'fs',
    };
    expect(guardian.consumeGrant(grant)).toBe(false);
    expect(() => guardian.commitBudget('r')).toThrow(/ledger/);
    expect(() => guardian.refundBudget('r')).toThrow(/ledger/);
    expect(guardian.policyHash()).toMatch(/^sha256:/);
  });
});
