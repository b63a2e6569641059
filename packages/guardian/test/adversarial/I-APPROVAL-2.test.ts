// I-APPROVAL-2 — approvals collected under one approval requirement never satisfy another: the
// challenge binds requirement_digest = digest(JCS({type: "helm.approval.requirement.v1", rule_id,
// role, quorum, emergency_quorum, timelock_ms, ttl_ms})), a call whose requirement has a different
// digest opens its own challenge, and consuming a grant re-checks the digest.
// Written from the attacker's side: satisfy the cheap requirement, then run the expensive call.
import type { ApprovalRequirement } from '@helm/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GuardianError, requirementDigest } from '../../src/index.ts';
import {
  approveN,
  challengeOf,
  DEPLOY_WHEN,
  deploy,
  grantFor,
  guardianOn,
  RUNS,
  stackOf,
} from './helpers.ts';

type Requirement = ApprovalRequirement & { rule_id: string };

const HOUR = 3_600_000;
const LENIENT = { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: HOUR };
const STRICT = { quorum: 3, role: 'approver', timelock_ms: 600_000, ttl_ms: HOUR };

const TENANT_STACK = stackOf([
  {
    id: 'deploy-acme',
    effect: 'allow',
    when: { ...DEPLOY_WHEN, principal: { in: ['alice', 'bob'] }, tenant: { eq: 'acme' } },
    requires_approval: LENIENT,
  },
  {
    id: 'deploy-globex',
    effect: 'allow',
    when: { ...DEPLOY_WHEN, principal: { in: ['alice', 'bob'] }, tenant: { eq: 'globex' } },
    requires_approval: STRICT,
  },
]);

/** A base requirement and a different one, stricter in one dimension (what a second rule adds). */
const KINDS = ['quorum', 'timelock', 'ttl', 'role', 'emergency'] as const;
const variationArb = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    quorum: fc.integer({ min: 1, max: 2 }),
    timelock: fc.constantFrom(0, 1_000),
    delta: fc.integer({ min: 1, max: 100_000 }),
    bump: fc.integer({ min: 1, max: 2 }),
  })
  .map(({ kind, quorum, timelock, delta, bump }) => {
    const base: ApprovalRequirement = {
      quorum,
      role: 'approver',
      timelock_ms: timelock,
      ttl_ms: HOUR,
      ...(kind === 'emergency' ? { emergency_quorum: quorum + 1 } : {}),
    };
    const stricter: ApprovalRequirement =
      kind === 'quorum'
        ? { ...base, quorum: quorum + bump }
        : kind === 'timelock'
          ? { ...base, timelock_ms: timelock + delta }
          : kind === 'ttl'
            ? { ...base, ttl_ms: HOUR - delta }
            : kind === 'role'
              ? { ...base, role: 'release-manager', quorum: quorum + bump }
              : { ...base, emergency_quorum: quorum + 1 + bump };
    return { kind, base, stricter };
  });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

describe('I-APPROVAL-2: a different or stricter requirement never reuses a challenge or grant', () => {
  it('one approval in a 1-of-N tenant does not run the call in a tenant requiring 3 approvers and a timelock', () => {
    fc.assert(
      fc.property(fc.constantFrom('alice', 'bob'), fc.stringMatching(/^[a-z]{1,8}$/), (principal, target) => {
        const h = guardianOn(TENANT_STACK);
        const inAcme = deploy({ principal, tenant: 'acme', args: { target } });
        const inGlobex = deploy({ principal, tenant: 'globex', args: { target } });
        const cheap = challengeOf(h.guardian, h.guardian.evaluate(inAcme));
        expect(cheap.quorum).toBe(1);
        approveN(h.guardian, cheap, 1);
        const okAcme = h.guardian.evaluate(inAcme);
        expect(okAcme.record.verdict).toBe('ALLOW');

        const attempt = h.guardian.evaluate(inGlobex);
        expect(attempt.record.verdict).toBe('ESCALATE');
        expect(attempt.record.approval_grant_id).toBeNull();
        const strict = challengeOf(h.guardian, attempt);
        expect(strict.challenge_id).not.toBe(cheap.challenge_id);
        expect(strict.requirement_digest).not.toBe(cheap.requirement_digest);
        expect(strict.quorum).toBe(3);
        expect(strict.not_before_ms - strict.created_at_ms).toBe(600_000);
        expect(h.guardian.consumeGrant({ ...grantFor(okAcme, inAcme), tenant: 'globex' })).toBe(false);

        // the strict ceremony itself still works: three approvers, then the timelock
        approveN(h.guardian, strict, 3);
        expect(h.guardian.evaluate(inGlobex).record.verdict).toBe('ESCALATE');
        h.clock.advance(600_000);
        const okGlobex = h.guardian.evaluate(inGlobex);
        expect(okGlobex.record.approval_grant_id).toBe(strict.challenge_id);
        expect(h.guardian.consumeGrant(grantFor(okGlobex, inGlobex))).toBe(true);
      }),
      RUNS,
    );
  });

  it('a stricter requirement for the same call (a context-dependent rule) opens a new challenge', () => {
    fc.assert(
      fc.property(variationArb, fc.stringMatching(/^[a-z]{1,8}$/), ({ kind, base, stricter }, target) => {
        const policy = stackOf([
          {
            id: 'deploy-base',
            effect: 'allow',
            when: { ...DEPLOY_WHEN, principal: { eq: 'alice' } },
            requires_approval: base,
          },
          {
            id: 'deploy-high',
            effect: 'allow',
            when: {
              ...DEPLOY_WHEN,
              principal: { eq: 'alice' },
              context: { ticket_priority: { eq: 'high' } },
            },
            requires_approval: stricter,
          },
        ]);
        const h = guardianOn(policy);
        const low = deploy({ args: { target }, attributes: { ticket_priority: 'low' } });
        const high = deploy({ args: { target }, attributes: { ticket_priority: 'high' } });
        const cheap = challengeOf(h.guardian, h.guardian.evaluate(low));
        if (kind === 'emergency') approveN(h.guardian, cheap, base.emergency_quorum!, true);
        else approveN(h.guardian, cheap, base.quorum);
        h.clock.advance(base.timelock_ms);
        expect(h.guardian.evaluate(low).record.verdict).toBe('ALLOW');

        const attempt = h.guardian.evaluate(high);
        expect(attempt.record.verdict).toBe('ESCALATE');
        expect(attempt.record.approval_grant_id).toBeNull();
        const c = challengeOf(h.guardian, attempt);
        expect(c.challenge_id).not.toBe(cheap.challenge_id);
        expect(c.requirement_digest).not.toBe(cheap.requirement_digest);
        expect(c.quorum).toBeGreaterThanOrEqual(stricter.quorum);
        expect(c.not_before_ms - c.created_at_ms).toBeGreaterThanOrEqual(stricter.timelock_ms);
        expect(c.expires_at_ms - c.created_at_ms).toBeLessThanOrEqual(stricter.ttl_ms);
        if (kind === 'emergency') expect(c.emergency_quorum).toBe(stricter.emergency_quorum);
        if (kind === 'role') expect(c.role).toBe('release-manager');
      }),
      RUNS,
    );
  });

  it('the challenge carries the canonical requirement digest, and consumeGrant re-checks it', () => {
    const policy = stackOf([
      {
        id: 'deploy-base',
        effect: 'allow',
        when: { ...DEPLOY_WHEN, principal: { eq: 'alice' } },
        requires_approval: LENIENT,
      },
    ]);
    fc.assert(
      fc.property(variationArb, ({ stricter }) => {
        const h = guardianOn(policy);
        const c = challengeOf(h.guardian, h.guardian.evaluate(deploy()));
        const own: Requirement = { ...LENIENT, rule_id: 'deploy-base' };
        expect(c.requirement_digest).toBe(requirementDigest(own));
        // digest of a typed JCS object: key order and an absent vs null emergency quorum do not matter
        expect(requirementDigest({ emergency_quorum: undefined, ...own } as Requirement)).toBe(
          c.requirement_digest,
        );
        approveN(h.guardian, c, 1);
        const use = {
          grant_id: c.challenge_id,
          tenant: c.tenant,
          principal: c.principal,
          authority: c.authority,
          tool: c.tool,
          effect_digest: c.effect_digest,
          args_hash: c.args_hash,
          policy_bundle_hash: c.policy_bundle_hash,
          p0_ceiling_hash: c.p0_ceiling_hash,
        };
        const other = requirementDigest({ ...stricter, rule_id: 'deploy-base' });
        expect(other).not.toBe(c.requirement_digest);
        const a = h.guardian.approvals!;
        expect(code(() => a.consumeGrant({ ...use, requirement_digest: other }))).toBe('APPROVAL_INVALID');
        expect(
          code(() => a.consumeGrant({ ...use, requirement_digest: c.requirement_digest })),
        ).toBeUndefined();
        expect(code(() => a.consumeGrant({ ...use, requirement_digest: c.requirement_digest }))).toBe(
          'APPROVAL_INVALID',
        );
      }),
      RUNS,
    );
  });
});
