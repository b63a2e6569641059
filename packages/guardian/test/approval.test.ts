// Approval ceremonies: quorum of distinct verified approvers, timelock, expiry, rate limits,
// emergency override, single-use grants — and the adversarial list.
import type { ApprovalChallenge, DecisionRecord, SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope, type Signer, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { type GrantUse, type GuardianError, intentHash } from '../src/index.ts';
import { approverSigners, guardianSigner, harness, outsiderSigner, request } from './fixtures.ts';

const deploy = (args: Record<string, unknown> = { target: 'prod' }) =>
  request({ tool: 'deploy', effect_type: 'compute', risk_tier: 'HIGH', resource: 'svc/api', args });

function approve(
  c: ApprovalChallenge,
  signer: Signer,
  approver: string,
  extra: Record<string, unknown> = {},
): SignedEnvelope {
  return signEnvelope(
    {
      type: 'helm.approval.v1',
      challenge_id: c.challenge_id,
      intent_hash: c.intent_hash,
      policy_bundle_hash: c.policy_bundle_hash,
      p0_ceiling_hash: c.p0_ceiling_hash,
      approver,
      emergency: false,
      ...extra,
    },
    [signer],
  );
}

/** A grant use bound exactly like the challenge (override fields to present another binding). */
function use(c: ApprovalChallenge, overrides: Partial<GrantUse> = {}): GrantUse {
  return {
    grant_id: c.challenge_id,
    tenant: c.tenant,
    principal: c.principal,
    authority: c.authority,
    tool: c.tool,
    effect_digest: c.effect_digest,
    args_hash: c.args_hash,
    requirement_digest: c.requirement_digest,
    policy_bundle_hash: c.policy_bundle_hash,
    p0_ceiling_hash: c.p0_ceiling_hash,
    ...overrides,
  };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

function escalate(h = harness()) {
  const first = h.guardian.evaluate(deploy());
  expect(first.record.verdict).toBe('ESCALATE');
  const challenge = openVerifiedEnvelope<ApprovalChallenge & { type: string }>(
    first.challenge!,
    'helm.approval.challenge.v1',
    h.guardian.publicKeys,
  ).body;
  return { ...h, first, challenge };
}

describe('approval ceremonies', () => {
  it('ESCALATE carries a guardian-signed challenge binding bundle, P0 and intent hashes', () => {
    const { first, challenge, guardian } = escalate();
    const stack = guardian.policyStack!;
    expect(challenge.challenge_id).toBe(first.record.approval_challenge_id);
    expect(challenge.policy_bundle_hash).toBe(stack.bundleHash);
    expect(challenge.p0_ceiling_hash).toBe(stack.p0Hash);
    expect(challenge.intent_hash).toBe(intentHash(first.record.effect_digest!, first.record.args_hash));
    expect(challenge.not_before_ms).toBe(challenge.created_at_ms + 60_000);
    expect(challenge.quorum).toBe(2);
    expect(guardian.challenge(challenge.challenge_id)).toEqual(challenge);
    // asking again returns the same pending challenge
    expect(guardian.evaluate(deploy()).record.approval_challenge_id).toBe(challenge.challenge_id);
  });

  it('M-of-N distinct approvers + timelock → ALLOW with a single-use grant', () => {
    const { guardian, challenge, clock } = escalate();
    const a = guardian.approvals!;
    expect(a.submit(approve(challenge, approverSigners[0]!, 'ann')).approvals).toBe(1);
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ESCALATE');
    expect(a.submit(approve(challenge, approverSigners[1]!, 'ben')).approvals).toBe(2);
    // quorum met but the timelock (guardian clock) has not passed
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ESCALATE');
    clock.advance(60_000);
    const ok = guardian.evaluate(deploy());
    expect(ok.record.verdict).toBe('ALLOW');
    expect(ok.record.review_required).toBe(false);
    // the signed ALLOW decision names the grant the executor must consume, and expires
    expect(ok.record.approval_grant_id).toBe(challenge.challenge_id);
    expect(ok.record.approval_challenge_id).toBe(challenge.challenge_id);
    expect(ok.record.expires_at_ms).toBe(ok.record.decided_at_ms + 30_000);
    expect(ok.record.decided_at_ms).toBe(challenge.not_before_ms);
    const signed = openVerifiedEnvelope<DecisionRecord>(
      ok.decision,
      'helm.decision.v1',
      guardian.publicKeys,
    ).body;
    expect(signed).toStrictEqual(ok.record);
    expect(signed.approval_grant_id).toBe(challenge.challenge_id);
    expect(use(challenge).effect_digest).toBe(ok.record.effect_digest);
    a.consumeGrant(use(challenge));
    // reused grant
    expect(code(() => a.consumeGrant(use(challenge)))).toBe('APPROVAL_INVALID');
    // after consumption the same call needs a new ceremony
    const again = guardian.evaluate(deploy());
    expect(again.record.verdict).toBe('ESCALATE');
    expect(again.record.approval_challenge_id).not.toBe(challenge.challenge_id);
    expect(a.log().map((e) => e.step)).toEqual([
      'challenge.opened',
      'approval.recorded',
      'approval.recorded',
      'grant.consumed',
      'approval.rejected',
      'challenge.opened',
    ]);
  });

  it('a grant cannot be consumed before the timelock, for another intent, or when unknown', () => {
    const { guardian, challenge, first } = escalate();
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann'));
    a.submit(approve(challenge, approverSigners[1]!, 'ben'));
    expect(first.record.args_hash).toBe(challenge.args_hash);
    expect(code(() => a.consumeGrant(use(challenge)))).toBe('APPROVAL_INVALID');
    expect(code(() => a.consumeGrant(use(challenge, { args_hash: `sha256:${'0'.repeat(64)}` })))).toBe(
      'APPROVAL_INVALID',
    );
    expect(code(() => a.consumeGrant(use(challenge, { grant_id: `sha256:${'0'.repeat(64)}` })))).toBe(
      'APPROVAL_INVALID',
    );
    expect(code(() => a.consumeGrant(null as unknown as GrantUse))).toBe('APPROVAL_INVALID');
  });

  const rejections: [string, (c: ApprovalChallenge) => SignedEnvelope, string][] = [
    ['unauthorized approver key', (c) => approve(c, outsiderSigner, 'eve'), 'APPROVAL_INVALID'],
    ['the execution (guardian) key', (c) => approve(c, guardianSigner, 'guardian'), 'APPROVAL_INVALID'],
    [
      'approval for a different intent',
      (c) => approve(c, approverSigners[0]!, 'ann', { intent_hash: `sha256:${'1'.repeat(64)}` }),
      'APPROVAL_INVALID',
    ],
    [
      'approval under a different bundle',
      (c) => approve(c, approverSigners[0]!, 'ann', { policy_bundle_hash: `sha256:${'2'.repeat(64)}` }),
      'APPROVAL_INVALID',
    ],
    [
      'approval under a different P0',
      (c) => approve(c, approverSigners[0]!, 'ann', { p0_ceiling_hash: `sha256:${'3'.repeat(64)}` }),
      'APPROVAL_INVALID',
    ],
    [
      'unknown challenge',
      (c) => approve({ ...c, challenge_id: `sha256:${'4'.repeat(64)}` }, approverSigners[0]!, 'ann'),
      'APPROVAL_INVALID',
    ],
    ['extra field', (c) => approve(c, approverSigners[0]!, 'ann', { note: 'hi' }), 'APPROVAL_INVALID'],
    [
      'wrong envelope type (execution domain)',
      (c) => ({ ...approve(c, approverSigners[0]!, 'ann'), type: 'helm.intent.v1' }),
      'APPROVAL_INVALID',
    ],
    [
      'tampered payload (signature no longer verifies)',
      (c) => {
        const env = approve(c, approverSigners[0]!, 'ann');
        const other = approve(c, approverSigners[0]!, 'ann2');
        return { ...env, payload: other.payload };
      },
      'APPROVAL_INVALID',
    ],
    [
      'signature by another approver under this key id',
      (c) => {
        const env = approve(c, approverSigners[0]!, 'ann');
        const forged = approve(c, approverSigners[1]!, 'ann');
        return { ...env, signatures: [{ keyid: approverSigners[0]!.keyId, sig: forged.signatures[0]!.sig }] };
      },
      'APPROVAL_INVALID',
    ],
    [
      'two signatures',
      (c) => {
        const env = approve(c, approverSigners[0]!, 'ann');
        return { ...env, signatures: [...env.signatures, ...env.signatures] };
      },
      'APPROVAL_INVALID',
    ],
    [
      'payload not JSON',
      () => ({ type: 'helm.approval.v1', payload: 'bm90IGpzb24', signatures: [{ keyid: 'k', sig: 's' }] }),
      'APPROVAL_INVALID',
    ],
  ];
  it.each(rejections)('rejects %s (and records the rejection)', (_name, make, expected) => {
    const { guardian, challenge } = escalate();
    expect(code(() => guardian.approvals!.submit(make(challenge)))).toBe(expected);
    expect(guardian.approvals!.status(challenge.challenge_id)!.approvals).toBe(0);
    expect(guardian.approvals!.log().at(-1)!.step).toBe('approval.rejected');
  });

  it('duplicate approver (same identity or same key) never counts twice', () => {
    const { guardian, challenge } = escalate();
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann'));
    expect(code(() => a.submit(approve(challenge, approverSigners[0]!, 'ann')))).toBe('APPROVAL_INVALID');
    expect(code(() => a.submit(approve(challenge, approverSigners[0]!, 'ann-alias')))).toBe(
      'APPROVAL_INVALID',
    );
    expect(code(() => a.submit(approve(challenge, approverSigners[1]!, 'ann')))).toBe('APPROVAL_INVALID');
    expect(a.status(challenge.challenge_id)!.approvals).toBe(1);
  });

  it('I-GOVERN-2: keys of one rotation lineage count as one approver, whatever identity they claim', () => {
    // approverSigners[0] was rotated to [2]; [1] is a separate approver. The port reports the
    // lineage (the first key of the rotation chain) for every key it authorizes.
    const lineage = new Map([
      [approverSigners[0]!.keyId, approverSigners[0]!.keyId],
      [approverSigners[2]!.keyId, approverSigners[0]!.keyId],
      [approverSigners[1]!.keyId, approverSigners[1]!.keyId],
    ]);
    const h = harness({
      approvals: {
        keyAuthorization: (id, role) => {
          const s = approverSigners.find((k) => k.keyId === id);
          const l = lineage.get(id);
          return role === 'approver' && s && l ? { publicKey: s.publicKey, lineage: l } : undefined;
        },
        perApprover: { max: 10, window_ms: 3_600_000 },
        perPrincipal: { max: 10, window_ms: 3_600_000 },
      },
    });
    const { guardian, challenge, clock } = escalate(h);
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann'));
    // The successor key, under a fresh identity, is still ann.
    expect(code(() => a.submit(approve(challenge, approverSigners[2]!, 'ann-2')))).toBe('APPROVAL_INVALID');
    expect(a.status(challenge.challenge_id)!.approvals).toBe(1);
    clock.advance(60_000);
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ESCALATE');
    // A key of another lineage is a second approver.
    expect(a.submit(approve(challenge, approverSigners[1]!, 'ben')).approvals).toBe(2);
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ALLOW');
  });

  it('a malformed key authorization answer is refused, not counted', () => {
    const h = harness({
      approvals: {
        keyAuthorization: (id) =>
          id === approverSigners[0]!.keyId
            ? ({ publicKey: approverSigners[0]!.publicKey, lineage: '' } as never)
            : undefined,
        perApprover: { max: 10, window_ms: 3_600_000 },
        perPrincipal: { max: 10, window_ms: 3_600_000 },
      },
    });
    const { guardian, challenge } = escalate(h);
    expect(code(() => guardian.approvals!.submit(approve(challenge, approverSigners[0]!, 'ann')))).toBe(
      'APPROVAL_INVALID',
    );
    expect(guardian.approvals!.status(challenge.challenge_id)!.approvals).toBe(0);
  });

  it('approval after expiry is refused; an expired challenge denies with APPROVAL_TIMEOUT', () => {
    const { guardian, challenge, clock } = escalate();
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann'));
    clock.advance(3_600_000);
    expect(code(() => a.submit(approve(challenge, approverSigners[1]!, 'ben')))).toBe('APPROVAL_TIMEOUT');
    expect(guardian.evaluate(deploy()).record.reason_code).toBe('APPROVAL_TIMEOUT');
    expect(code(() => a.submit(approve(challenge, approverSigners[1]!, 'ben')))).toBe('APPROVAL_INVALID');
    // a fresh ceremony starts afterwards
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ESCALATE');
  });

  it('a granted but unused approval expires', () => {
    const { guardian, challenge, clock } = escalate();
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann'));
    a.submit(approve(challenge, approverSigners[1]!, 'ben'));
    clock.advance(3_600_000);
    expect(code(() => a.consumeGrant(use(challenge)))).toBe('APPROVAL_TIMEOUT');
  });

  it('emergency override: stricter quorum, skips the timelock, flagged for review', () => {
    const { guardian, challenge, first } = escalate();
    const a = guardian.approvals!;
    a.submit(approve(challenge, approverSigners[0]!, 'ann', { emergency: true }));
    a.submit(approve(challenge, approverSigners[1]!, 'ben', { emergency: true }));
    // two emergency approvals meet the normal quorum but not the emergency one; timelock holds
    expect(guardian.evaluate(deploy()).record.verdict).toBe('ESCALATE');
    a.submit(approve(challenge, approverSigners[2]!, 'cat', { emergency: true }));
    const ok = guardian.evaluate(deploy());
    expect(ok.record.verdict).toBe('ALLOW');
    expect(ok.record.review_required).toBe(true);
    // the emergency ALLOW is still bound to the grant, and the timelock did not delay it
    expect(ok.record.approval_grant_id).toBe(challenge.challenge_id);
    expect(ok.record.decided_at_ms).toBeLessThan(challenge.not_before_ms);
    expect(ok.record.expires_at_ms).toBe(ok.record.decided_at_ms + 30_000);
    expect(challenge.effect_digest).toBe(first.record.effect_digest);
    a.consumeGrant(use(challenge));
    expect(a.log().at(-1)!.detail).toMatch(/review/);
  });

  it('emergency approvals are refused when the rule has no emergency quorum', () => {
    const h = harness();
    const stackNoEmergency = h.guardian.policyStack!;
    expect(stackNoEmergency).toBeDefined();
    const { guardian, challenge } = escalate(h);
    const c = { ...challenge };
    const state = (
      guardian.approvals as unknown as { challenges: Map<string, { challenge: ApprovalChallenge }> }
    ).challenges.get(c.challenge_id)!;
    (state as { challenge: ApprovalChallenge }).challenge = { ...state.challenge, emergency_quorum: null };
    expect(
      code(() => guardian.approvals!.submit(approve(c, approverSigners[0]!, 'ann', { emergency: true }))),
    ).toBe('APPROVAL_INVALID');
  });

  it('rate limits per approver', () => {
    const h = harness({
      approvals: {
        keyAuthorization: (id, role) =>
          role === 'approver' ? approverSigners.find((s) => s.keyId === id)?.publicKey : undefined,
        perApprover: { max: 1, window_ms: 3_600_000 },
        perPrincipal: { max: 10, window_ms: 3_600_000 },
      },
    });
    const one = escalate(h);
    h.guardian.approvals!.submit(approve(one.challenge, approverSigners[0]!, 'ann'));
    const second = h.guardian.evaluate(deploy({ target: 'staging' }));
    const c2 = h.guardian.challenge(second.record.approval_challenge_id!)!;
    expect(code(() => h.guardian.approvals!.submit(approve(c2, approverSigners[0]!, 'ann')))).toBe(
      'APPROVAL_RATE_LIMITED',
    );
    h.clock.advance(3_600_000);
    expect(h.guardian.evaluate(deploy({ target: 'staging' })).record.reason_code).toBe('APPROVAL_TIMEOUT');
  });

  it('rate limits per principal (challenges opened)', () => {
    const h = harness({
      approvals: {
        keyAuthorization: () => undefined,
        perApprover: { max: 10, window_ms: 1000 },
        perPrincipal: { max: 2, window_ms: 1000 },
      },
    });
    expect(h.guardian.evaluate(deploy({ n: 1 })).record.verdict).toBe('ESCALATE');
    expect(h.guardian.evaluate(deploy({ n: 2 })).record.verdict).toBe('ESCALATE');
    expect(h.guardian.evaluate(deploy({ n: 3 })).record.reason_code).toBe('APPROVAL_RATE_LIMITED');
    h.clock.advance(1000);
    expect(h.guardian.evaluate(deploy({ n: 3 })).record.verdict).toBe('ESCALATE');
  });

  it('rejects invalid rate-limit configuration', () => {
    expect(() =>
      harness({
        approvals: {
          keyAuthorization: () => undefined,
          perApprover: { max: 0, window_ms: 1 },
          perPrincipal: { max: 1, window_ms: 1 },
        },
      }),
    ).toThrow(/rate limits/);
  });

  it('status of an unknown challenge is undefined', () => {
    const { guardian } = harness();
    expect(guardian.approvals!.status('nope')).toBeUndefined();
    expect(guardian.challenge('nope')).toBeUndefined();
  });

  it('every step is emitted to the event sink', () => {
    const { guardian, challenge, sink } = escalate();
    guardian.approvals!.submit(approve(challenge, approverSigners[0]!, 'ann'));
    const steps = sink.events
      .filter((e) => e.subject === challenge.challenge_id)
      .map((e) => `${e.kind}:${e.event}`);
    expect(steps).toEqual(['ATTESTATION:challenge.opened', 'ATTESTATION:approval.recorded']);
  });
});

describe('approval grant through the executor port', () => {
  it('consumes exactly once', () => {
    const { guardian, challenge, clock } = escalate();
    guardian.approvals!.submit(approve(challenge, approverSigners[0]!, 'ann'));
    guardian.approvals!.submit(approve(challenge, approverSigners[1]!, 'ben'));
    clock.advance(60_000);
    const ok = guardian.evaluate(deploy());
    const grant = {
      grant_id: ok.record.approval_grant_id!,
      decision_id: ok.record.decision_id,
      effect_digest: ok.record.effect_digest!,
      args_hash: ok.record.args_hash,
      tenant: ok.record.tenant,
      principal: ok.record.principal,
      tool: ok.record.tool,
    };
    expect(guardian.consumeGrant(grant)).toBe(true);
    expect(guardian.consumeGrant(grant)).toBe(false);
  });

  it('binds the decision: refusals are TRUST_EVENTs, reloads forget', () => {
    const { guardian, challenge, clock, sink } = escalate();
    guardian.approvals!.submit(approve(challenge, approverSigners[0]!, 'ann'));
    guardian.approvals!.submit(approve(challenge, approverSigners[1]!, 'ben'));
    clock.advance(60_000);
    const ok = guardian.evaluate(deploy());
    expect(ok.record.approval_grant_id).toBe(challenge.challenge_id);
    const grant = {
      grant_id: challenge.challenge_id,
      decision_id: ok.record.decision_id,
      effect_digest: ok.record.effect_digest!,
      args_hash: ok.record.args_hash,
      tenant: null,
      principal: 'alice',
      tool: 'deploy',
    };
    expect(guardian.consumeGrant({ ...grant, decision_id: `sha256:${'5'.repeat(64)}` })).toBe(false);
    expect(guardian.consumeGrant({ ...grant, grant_id: 42 } as unknown as typeof grant)).toBe(false);
    expect(guardian.consumeGrant({ ...grant, decision_id: 7 } as unknown as typeof grant)).toBe(false);
    expect(guardian.consumeGrant(null as unknown as typeof grant)).toBe(false);
    const refused = sink.events.filter((e) => e.event === 'grant.refused');
    expect(refused.map((e) => e.kind)).toEqual(['TRUST_EVENT', 'TRUST_EVENT', 'TRUST_EVENT']);
    expect(refused.map((e) => e.subject)).toEqual([challenge.challenge_id, '-', challenge.challenge_id]);
    expect(refused[2]!.payload).toMatchObject({ decision_id: null });
    // a second ALLOW for the same grant; a reload to the same stack keeps both usable
    clock.advance(1);
    const later = guardian.evaluate(deploy());
    guardian.replacePolicy(guardian.policyStack!, 'ops');
    expect(guardian.consumeGrant(grant)).toBe(true);
    // spending the grant retires every decision that named it
    expect(guardian.consumeGrant({ ...grant, decision_id: later.record.decision_id })).toBe(false);
  });

  it('a statement carrying its own timelock is rejected (timelocks are never client-declared)', () => {
    const { guardian, challenge } = escalate();
    expect(
      code(() =>
        guardian.approvals!.submit(approve(challenge, approverSigners[0]!, 'ann', { not_before_ms: 0 })),
      ),
    ).toBe('APPROVAL_INVALID');
  });
});
