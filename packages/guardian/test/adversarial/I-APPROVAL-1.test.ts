// I-APPROVAL-1 — an approval challenge and its grant are bound to the exact call context they were
// opened for: tenant, principal, authority (the delegator of a delegated call), tool, effect digest,
// args hash and the policy (P0 + P1 hashes; at consumption, the stack of the ALLOW decision). No
// other context can reuse the challenge, and consumption re-checks every binding.
// Written from the attacker's side: collect approvals in one context, spend them in another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHALLENGE, VERIFIER } from '../fixtures.ts';
import {
  approveN,
  challengeOf,
  DEPLOY_WHEN,
  deploy,
  FEW_RUNS,
  grantFor,
  guardianOn,
  ROOMY_P0,
  RUNS,
  stackOf,
} from './helpers.ts';

const ONE_OF_N = { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 };

const STACK = stackOf([
  {
    id: 'deploy-any-tenant',
    effect: 'allow',
    when: { ...DEPLOY_WHEN, principal: { in: ['alice', 'bob', 'agent-7'] } },
    requires_approval: ONE_OF_N,
  },
]);

const tenantArb = fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { nil: null });
const principalArb = fc.constantFrom('alice', 'bob');
const targetArb = fc.stringMatching(/^[a-z]{1,8}$/);
const hexDigest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

describe('I-APPROVAL-1: challenges and grants bind tenant, principal, authority, tool, effect and policy', () => {
  it('approvals collected in one tenant never authorize the same call in another tenant', () => {
    fc.assert(
      fc.property(
        principalArb,
        fc.tuple(tenantArb, tenantArb).filter(([a, b]) => a !== b),
        targetArb,
        (principal, [tenantA, tenantB], target) => {
          const h = guardianOn(STACK);
          const callA = deploy({ principal, tenant: tenantA, args: { target } });
          const callB = deploy({ principal, tenant: tenantB, args: { target } });
          const held = h.guardian.evaluate(callA);
          expect(held.record.verdict).toBe('ESCALATE');
          const c = challengeOf(h.guardian, held);
          expect(c.tenant).toBe(tenantA);
          approveN(h.guardian, c, 1);
          const okA = h.guardian.evaluate(callA);
          expect(okA.record.verdict).toBe('ALLOW');

          // the attacker replays the approved call in tenant B: a new ceremony, never the grant
          const inB = h.guardian.evaluate(callB);
          expect(inB.record.verdict).toBe('ESCALATE');
          expect(inB.record.approval_grant_id).toBeNull();
          expect(inB.record.approval_challenge_id).not.toBe(c.challenge_id);
          expect(challengeOf(h.guardian, inB).tenant).toBe(tenantB);

          // …nor can the grant of tenant A be consumed for a call in tenant B
          const port = h.guardian.asExecutorPort();
          expect(port.consumeGrant({ ...grantFor(okA, callA), tenant: tenantB })).toBe(false);
          expect(port.consumeGrant(grantFor(okA, callA))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('consumeGrant refuses any binding that differs from the challenge and the ALLOW decision', () => {
    const FIELDS = [
      'tenant',
      'principal',
      'tool',
      'effect_digest',
      'args_hash',
      'decision_id',
      'escalate_decision_id',
      'grant_id',
      'missing_tenant',
      'missing_principal',
      'missing_tool',
      'missing_decision_id',
    ] as const;
    fc.assert(
      fc.property(
        principalArb,
        tenantArb,
        fc.constantFrom(...FIELDS),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
        hexDigest,
        (principal, tenant, field, other, otherDigest) => {
          const h = guardianOn(STACK);
          const call = deploy({ principal, tenant });
          const held = h.guardian.evaluate(call);
          approveN(h.guardian, challengeOf(h.guardian, held), 1);
          const ok = h.guardian.evaluate(call);
          expect(ok.record.verdict).toBe('ALLOW');
          const good = grantFor(ok, call);
          const differs = (v: string | null) => (v === other ? `${other}-x` : other);
          const bad: Record<string, unknown> = { ...good };
          switch (field) {
            case 'tenant':
              bad.tenant = tenant === null ? other : [differs(tenant), null][other.length % 2];
              break;
            case 'principal':
              bad.principal = principal === 'alice' ? 'bob' : 'alice';
              break;
            case 'tool':
              bad.tool = differs(good.tool);
              break;
            case 'effect_digest':
            case 'args_hash':
            case 'decision_id':
            case 'grant_id':
              bad[field] = otherDigest;
              break;
            case 'escalate_decision_id':
              // a real decision of this guardian, but not an ALLOW naming this grant
              bad.decision_id = held.record.decision_id;
              break;
            default:
              delete bad[field.slice('missing_'.length)];
          }
          const port = h.guardian.asExecutorPort();
          expect(port.consumeGrant(bad as typeof good)).toBe(false);
          expect(h.guardian.consumeGrant(bad as typeof good)).toBe(false);
          // the refused attempts did not burn the grant; the genuine one consumes it exactly once
          expect(port.consumeGrant(good)).toBe(true);
          expect(port.consumeGrant(good)).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('a delegated call and a direct call by the delegate never share a challenge or a grant', () => {
    const grants = [{ tool: { eq: 'deploy' }, action: { eq: 'deploy' }, effect_type: { eq: 'compute' } }];
    fc.assert(
      fc.property(fc.boolean(), targetArb, (delegatedFirst, target) => {
        const h = guardianOn(STACK);
        const { session } = h.guardian.delegations!.create({
          delegator: 'alice',
          delegate: 'agent-7',
          grants,
          ttl_ms: 600_000,
          code_challenge: CHALLENGE,
          mfa_verified: true,
        });
        let n = 0;
        const delegated = () =>
          deploy({
            principal: 'agent-7',
            args: { target },
            delegation: {
              session_id: session.session_id,
              code_verifier: VERIFIER,
              nonce: `nonce-${String(n++).padStart(12, '0')}`,
            },
          });
        const direct = () => deploy({ principal: 'agent-7', args: { target } });
        const [first, second] = delegatedFirst ? [delegated, direct] : [direct, delegated];

        const held = h.guardian.evaluate(first());
        const c = challengeOf(h.guardian, held);
        expect(c.principal).toBe('agent-7');
        approveN(h.guardian, c, 1);
        const call = first();
        const ok = h.guardian.evaluate(call);
        expect(ok.record.verdict).toBe('ALLOW');

        // the same effect under the other authority must not ride on these approvals
        const other = h.guardian.evaluate(second());
        expect(other.record.verdict).toBe('ESCALATE');
        expect(other.record.approval_challenge_id).not.toBe(c.challenge_id);
        expect(c.authority).toBe(delegatedFirst ? 'alice' : 'agent-7');
        expect(challengeOf(h.guardian, other).authority).toBe(delegatedFirst ? 'agent-7' : 'alice');

        // the grant is the presenting principal's; the delegator cannot consume it
        expect(h.guardian.consumeGrant({ ...grantFor(ok, call), principal: 'alice' })).toBe(false);
        expect(h.guardian.consumeGrant(grantFor(ok, call))).toBe(true);
      }),
      FEW_RUNS,
    );
  });

  it('an ALLOW decision stops being consumable when the policy is reloaded (P1, P0 or P2)', () => {
    const overlay = {
      type: 'helm.policy.overlay.v1',
      name: 'narrow',
      rules: [{ id: 'no-fs-write', effect: 'deny', when: { tool: { eq: 'fs' }, action: { eq: 'write' } } }],
    };
    const rules = STACK.bundles[0]!.rules;
    const reloads = {
      overlay: stackOf(rules, { overlays: [overlay] }),
      bundle: stackOf(rules, { version: 2 }),
      p0: stackOf(rules, { p0: { ...ROOMY_P0, name: 'org-ceiling-v2' } }),
    };
    fc.assert(
      fc.property(
        fc.constantFrom<keyof typeof reloads>('overlay', 'bundle', 'p0'),
        targetArb,
        (kind, target) => {
          const h = guardianOn(STACK);
          const call = deploy({ args: { target } });
          const c = challengeOf(h.guardian, h.guardian.evaluate(call));
          approveN(h.guardian, c, 1);
          const ok = h.guardian.evaluate(call);
          expect(ok.record.verdict).toBe('ALLOW');
          h.guardian.replacePolicy(reloads[kind], 'ops');
          // the decision was issued under another stack: its grant cannot be spent now
          expect(h.guardian.consumeGrant(grantFor(ok, call))).toBe(false);
          const again = h.guardian.evaluate(call);
          if (kind === 'overlay') {
            // P0 and P1 unchanged: the ceremony still holds, but only a decision under the new stack spends it
            expect(again.record.verdict).toBe('ALLOW');
            expect(again.record.approval_grant_id).toBe(c.challenge_id);
            expect(h.guardian.consumeGrant(grantFor(again, call))).toBe(true);
          } else {
            // new P1 bundle hash or P0 hash: a new ceremony
            expect(again.record.verdict).toBe('ESCALATE');
            expect(again.record.approval_challenge_id).not.toBe(c.challenge_id);
          }
        },
      ),
      FEW_RUNS,
    );
  });
});
