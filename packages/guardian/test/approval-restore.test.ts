// Restoring approval ceremonies in another guardian instance (another process): a challenge is
// taken over only from an envelope this guardian's own key signed, with consistent fields; closing
// it (denied, expired, consumed) makes it unusable. I-APPROVAL-1 holds across the restore.
import type { ApprovalChallenge, SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope, type Signer, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import type { GuardianError } from '../src/index.ts';
import { approverSigners, guardianSigner, harness, outsiderSigner, request } from './fixtures.ts';

const deploy = (args: Record<string, unknown> = { target: 'prod' }) =>
  request({ tool: 'deploy', effect_type: 'compute', risk_tier: 'HIGH', resource: 'svc/api', args });

function approve(c: ApprovalChallenge, signer: Signer, approver: string): SignedEnvelope {
  return signEnvelope(
    {
      type: 'helm.approval.v1',
      challenge_id: c.challenge_id,
      intent_hash: c.intent_hash,
      policy_bundle_hash: c.policy_bundle_hash,
      p0_ceiling_hash: c.p0_ceiling_hash,
      approver,
      emergency: false,
    },
    [signer],
  );
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

/** A challenge opened by one guardian instance, and a second instance (same key, empty state). */
function opened() {
  const a = harness();
  const first = a.guardian.evaluate(deploy());
  const envelope = first.challenge as SignedEnvelope;
  const challenge = openVerifiedEnvelope<ApprovalChallenge & { type: string }>(
    envelope,
    'helm.approval.challenge.v1',
    a.guardian.publicKeys,
  ).body;
  const b = harness();
  return { a, b, envelope, challenge };
}

describe('I-APPROVAL-1 restoring a challenge — attackers first', () => {
  it('refuses an envelope not signed by this guardian, with extra signatures, edited, or inconsistent', () => {
    const { b, envelope, challenge } = opened();
    const approvals = b.guardian.approvals!;
    const { type: _t, ...body } = challenge;
    const resigned = signEnvelope({ ...body, type: 'helm.approval.challenge.v1' }, [outsiderSigner]);
    expect(code(() => approvals.restore(resigned))).toBe('APPROVAL_INVALID');
    const cosigned = signEnvelope({ ...body, type: 'helm.approval.challenge.v1' }, [
      guardianSigner,
      outsiderSigner,
    ]);
    expect(code(() => approvals.restore(cosigned))).toBe('APPROVAL_INVALID');
    const edited = { ...envelope, payload: envelope.payload.replace(/^./, (c) => (c === 'e' ? 'f' : 'e')) };
    expect(code(() => approvals.restore(edited))).toBe('APPROVAL_INVALID');
    // Signed by the guardian key, but not a challenge the guardian would make.
    for (const wrong of [
      { ...challenge, quorum: 1 },
      { ...challenge, args_hash: challenge.effect_digest },
      { ...challenge, expires_at_ms: challenge.created_at_ms - 1 },
    ]) {
      expect(code(() => approvals.restore(signEnvelope(wrong, [guardianSigner])))).toBe('APPROVAL_INVALID');
    }
    const statement = approve(challenge, approverSigners[0] as Signer, 'ann');
    expect(code(() => approvals.restore(statement))).toBe('APPROVAL_INVALID');
    expect(approvals.getChallenge(challenge.challenge_id)).toBeUndefined();
  });

  it('a denied or consumed challenge yields no grant, and closing is idempotent', () => {
    const { b, envelope, challenge } = opened();
    const approvals = b.guardian.approvals!;
    approvals.restore(envelope);
    expect(approvals.close(challenge.challenge_id, 'denied')).toBe(true);
    expect(approvals.close(challenge.challenge_id, 'denied')).toBe(false);
    expect(approvals.close('sha256:' + '0'.repeat(64), 'denied')).toBe(false);
    expect(code(() => approvals.submit(approve(challenge, approverSigners[0] as Signer, 'ann')))).toBe(
      'APPROVAL_INVALID',
    );
    // In the same millisecond the new challenge would get the denied one's id: refused.
    const same = b.guardian.evaluate(deploy());
    expect(same.record.verdict).toBe('DENY');
    expect(same.record.reason_code).toBe('APPROVAL_INVALID');
    // Later, the same call opens a new challenge rather than reusing the denied one.
    b.clock.advance(1);
    const again = b.guardian.evaluate(deploy());
    expect(again.record.verdict).toBe('ESCALATE');
    expect(again.record.approval_challenge_id).not.toBe(challenge.challenge_id);

    const c2 = opened();
    const ap = c2.b.guardian.approvals!;
    ap.restore(c2.envelope);
    ap.submit(approve(c2.challenge, approverSigners[0] as Signer, 'ann'));
    ap.submit(approve(c2.challenge, approverSigners[1] as Signer, 'bob'));
    expect(ap.close(c2.challenge.challenge_id, 'consumed')).toBe(true);
    c2.b.clock.advance(60_000);
    const after = c2.b.guardian.evaluate(deploy());
    expect(after.record.verdict).toBe('ESCALATE');
    expect(after.record.approval_challenge_id).not.toBe(c2.challenge.challenge_id);
  });
});

describe('restoring a challenge', () => {
  it('a restored challenge serves its binding: approvals submitted to the new instance grant the call once', () => {
    const { b, envelope, challenge } = opened();
    const approvals = b.guardian.approvals!;
    expect(approvals.restore(envelope)).toEqual(challenge);
    expect(approvals.restore(envelope)).toEqual(challenge); // idempotent
    expect(approvals.envelope(challenge.challenge_id)).toEqual(envelope);
    approvals.submit(approve(challenge, approverSigners[0] as Signer, 'ann'));
    approvals.submit(approve(challenge, approverSigners[1] as Signer, 'bob'));
    const held = b.guardian.evaluate(deploy());
    expect(held.record.verdict).toBe('ESCALATE');
    expect(held.record.approval_challenge_id).toBe(challenge.challenge_id);
    b.clock.advance(60_000);
    const granted = b.guardian.evaluate(deploy());
    expect(granted.record.verdict).toBe('ALLOW');
    expect(granted.record.approval_grant_id).toBe(challenge.challenge_id);
    const grant = {
      grant_id: challenge.challenge_id,
      decision_id: granted.record.decision_id,
      effect_digest: challenge.effect_digest,
      args_hash: challenge.args_hash,
      tenant: challenge.tenant,
      principal: challenge.principal,
      tool: challenge.tool,
    };
    expect(b.guardian.consumeGrant(grant)).toBe(true);
    expect(b.guardian.consumeGrant(grant)).toBe(false);
    expect(approvals.log().map((e) => e.step)).toContain('challenge.restored');
  });
});
