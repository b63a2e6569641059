// The read side of approvals (what `helmts approvals list|show|export` and `approve --sign-only`
// rely on) and the refusals of malformed approval and denial events (I-GOVERN-2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_REQUEST_TYPE,
  appendGovernanceEvent,
  approvalRequestFile,
  approvalStatement,
  challengeViewById,
  challengeViews,
  readApprovalRequest,
  signerFromKeyFile,
  storedChallenge,
  verifiedChallenge,
} from '../src/index.ts';
import {
  approve,
  codeOf,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  TIMELOCK,
  withData,
  withRuntime,
} from './governance-fixture.ts';

async function held(dir: string, clock: ManualClock): Promise<string> {
  return withRuntime(
    dir,
    clock,
    async (rt) => (await rt.execute(deployCall())).approval_challenge_id as string,
  );
}

describe('I-GOVERN-2 approval events that are malformed are refused before they are appended', () => {
  it('a statement signed by another key, of another type, or for another challenge; a denial with a bad reason or by a non-approver', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await held(dir, clock);
    withData(dir, (data) => {
      const a1 = data.localKey('approver-1').signer;
      const a2 = data.localKey('approver-2').signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      const grant = (statement: unknown, signer = a1) =>
        codeOf(() =>
          appendGovernanceEvent(data, {
            action: 'approval.grant',
            body: { challenge_id: id, statement: statement as never },
            signer,
            at: T0 + 1,
          }),
        );
      expect(grant(approvalStatement(c, a2))).toBe('GOVERNANCE_EVENT_INVALID');
      expect(grant(signEnvelope({ type: 'helm.other.v1', challenge_id: id }, [a1]))).toBe(
        'GOVERNANCE_EVENT_INVALID',
      );
      expect(grant(approvalStatement({ ...c, challenge_id: `sha256:${'1'.repeat(64)}` }, a1))).toBe(
        'GOVERNANCE_EVENT_INVALID',
      );
      expect(grant('not an envelope')).toBe('GOVERNANCE_EVENT_INVALID');
      expect(
        codeOf(() =>
          appendGovernanceEvent(data, {
            action: 'approval.deny',
            body: { challenge_id: id, reason: 5 },
            signer: a1,
            at: T0 + 1,
          }),
        ),
      ).toBe('GOVERNANCE_EVENT_INVALID');
      expect(
        codeOf(() =>
          appendGovernanceEvent(data, {
            action: 'approval.deny',
            body: { challenge_id: `sha256:${'2'.repeat(64)}` },
            signer: a1,
            at: T0 + 1,
          }),
        ),
      ).toBe('CHALLENGE_UNKNOWN');
      expect(
        codeOf(() =>
          appendGovernanceEvent(data, {
            action: 'approval.deny',
            body: { challenge_id: id },
            signer: data.localKey('policy').signer,
            at: T0 + 1,
          }),
        ),
      ).toBe('KEY_NOT_VALID');
      expect(data.store.governanceEventsSync()).toHaveLength(0);
    });
  });
});

describe('approval views and files', () => {
  it('views follow the log; the export file carries the challenge and request, and an edited one is refused', async () => {
    const { dir, anchor } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await held(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1, { approver: 'carol' });
    const views = withData(dir, (data) => challengeViews(data, T0 + 2));
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({
      challenge_id: id,
      state: 'pending',
      approvals: 1,
      needed: 1,
      answers: [{ action: 'approval.grant', approver: 'carol', status: 'pending', emergency: false }],
    });
    clock.set(T0 + 3);
    await withRuntime(dir, clock, async () => undefined);
    expect(withData(dir, (data) => challengeViewById(data, id, T0 + 4)).answers[0]?.status).toBe('applied');
    const file = withData(dir, (data) => approvalRequestFile(data, id));
    expect(file).toMatchObject({ type: APPROVAL_REQUEST_TYPE, trust_anchor: anchor, chain_id: 'gov-test' });
    const read = readApprovalRequest(JSON.parse(JSON.stringify(file)));
    expect(read.challenge.challenge_id).toBe(id);
    expect(read.args).toEqual({ service: 'api', version: '1.2.3' });
    for (const bad of [
      null,
      { ...file, type: 'x' },
      { ...file, challenge: { ...file.challenge, payload: 'e30' } },
      { ...file, request: { ...(file.request as object), args: { service: 'api', version: '6' } } },
      { ...file, request: { args_text: '{"a":1,"a":2}' } },
    ]) {
      expect(codeOf(() => readApprovalRequest(bad))).toBe('INVALID_INPUT');
    }
    // A challenge whose fields were edited (the id no longer matches): refused before signing.
    const body = JSON.parse(Buffer.from(file.challenge.payload, 'base64url').toString());
    const edited = {
      ...file,
      challenge: {
        ...file.challenge,
        payload: Buffer.from(JSON.stringify({ ...body, quorum: 1 })).toString('base64url'),
      },
    };
    expect(codeOf(() => readApprovalRequest(edited))).toBe('INVALID_INPUT');
  });

  it('a key file names its key by its seed only', () => {
    const { dir } = freshGovernance();
    const path = join(dir, 'keys', 'approver-2.json');
    const signer = signerFromKeyFile(path);
    expect(signer.keyId).toBe(withData(dir, (data) => data.localKey('approver-2').signer.keyId));
    const forged = join(dir, 'forged.json');
    const other = createSigner(new Uint8Array(32).fill(5));
    writeFileSync(
      forged,
      JSON.stringify({ seed: Buffer.alloc(32, 6).toString('base64url'), keyid: other.keyId }),
    );
    expect(codeOf(() => signerFromKeyFile(forged))).toBe('KEY_FILE_MISMATCH');
    expect(codeOf(() => signerFromKeyFile(join(dir, 'missing.json')))).toBe('FILE_NOT_FOUND');
  });

  it('quorum met before the timelock reads timelocked, after it approved', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await held(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    approve(dir, id, 'approver-2', T0 + 2);
    expect(withData(dir, (data) => challengeViewById(data, id, T0 + 3)).state).toBe('timelocked');
    expect(withData(dir, (data) => challengeViewById(data, id, T0 + TIMELOCK)).state).toBe('approved');
  });
});
