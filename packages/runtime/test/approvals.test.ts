// Approvals across runtimes (I-GOVERN-2): challenges are stored with their ESCALATED receipt and
// restored at open; approvals and denials are governance events appended without the runtime; the
// approved call runs exactly once, whichever process runs it. Each step below uses its own DataDir
// (its own SQLite connection), as separate `helm` processes do; apps/cli/test/approvals.test.ts
// runs the same flow through real separate processes.
import { createSigner, type signEnvelope } from '@helm/crypto';
import { verifyEvidencePack } from '@helm/evidencepack';
import { describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  approvalContext,
  approvalStatement,
  challengeView,
  exportPack,
  importGovernanceEvent,
  readGovernanceLog,
  reexecute,
  signGovernanceEvent,
  storedChallenge,
  verifiedChallenge,
} from '../src/index.ts';
import {
  approve,
  codeOf,
  codeOfAsync,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  TIMELOCK,
  TTL,
  withData,
  withRuntime,
} from './governance-fixture.ts';

/** Escalate the deploy call in its own runtime; returns the challenge id. */
async function escalate(dir: string, clock: ManualClock, version = '1.2.3'): Promise<string> {
  return withRuntime(dir, clock, async (rt) => {
    const held = await rt.execute(deployCall(version));
    expect(held.status).toBe('ESCALATED');
    expect(held.reason_code).toBe('APPROVAL_REQUIRED');
    return held.approval_challenge_id as string;
  });
}

function state(dir: string, id: string, now: number) {
  return withData(dir, (data) => challengeView(data, storedChallenge(data, id), now, approvalContext(data)));
}

describe('I-GOVERN-2 approvals across runtimes — attackers first', () => {
  it('a key without the approver role cannot approve: refused before anything is appended', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    for (const name of ['executor', 'policy', 'guardian']) {
      expect(codeOf(() => approve(dir, id, name, T0 + 1))).toBe('KEY_NOT_VALID');
    }
    // A key the registry never saw.
    expect(codeOf(() => approve(dir, id, createSigner(new Uint8Array(32).fill(9)), T0 + 1))).toBe(
      'KEY_NOT_VALID',
    );
    withData(dir, (data) => expect(data.store.governanceEventsSync()).toHaveLength(0));
  });

  it('a revoked approver cannot approve, and an approval whose key is revoked before it is applied does not count', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    approve(dir, id, 'approver-2', T0 + 2);
    // approver-2 is revoked after it signed, before any runtime applied its approval.
    withData(dir, (data) => {
      const registry = data.registry();
      const keyid = data.localKey('approver-2').signer.keyId;
      data.appendTrustEvent(
        registry,
        commitTrustEvent(registry, { kind: 'key_revoke', keyid }, data.rootSigners(registry)),
      );
    });
    expect(codeOf(() => approve(dir, id, 'approver-2', T0 + 3))).toBe('KEY_NOT_VALID');
    clock.set(T0 + TIMELOCK + 1);
    await withRuntime(dir, clock, async (rt) => {
      const r = await rt.execute(deployCall());
      expect(r.status).toBe('ESCALATED');
      expect(rt.guardian.approvals?.status(id)?.approvals).toBe(1);
    });
    const applied = withData(dir, (data) => data.store.governanceAppliedSync());
    expect(applied.map((a) => (a.record as { outcome: string }).outcome)).toEqual(['applied', 'rejected']);
    expect((applied[1] as { record: { code: string } }).record.code).toBe('TRUST_KEY_REVOKED');
  });

  it('the same approver twice counts once: refused at append, and a second signed approval slipped past the check is rejected', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    expect(codeOf(() => approve(dir, id, 'approver-1', T0 + 2))).toBe('APPROVAL_DUPLICATE');
    // Another key claiming the same approver identity does not count either.
    expect(
      codeOf(() =>
        approve(dir, id, 'approver-2', T0 + 2, {
          approver: withData(dir, (d) => d.localKey('approver-1').signer.keyId),
        }),
      ),
    ).toBe('APPROVAL_DUPLICATE');
    // An approver holding its key can bypass the CLI's check and write the row itself: the runtime
    // (the guardian) still counts it once.
    withData(dir, (data) => {
      const signer = data.localKey('approver-1').signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      const envelope = signGovernanceEvent({
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
        signer,
        at: T0 + 3,
        trustAnchor: data.config().trust_anchor,
        chainId: data.config().chain_id,
      });
      appendRaw(data, envelope);
    });
    clock.set(T0 + TIMELOCK + 1);
    await withRuntime(dir, clock, async (rt) => {
      expect((await rt.execute(deployCall())).status).toBe('ESCALATED');
      expect(rt.guardian.approvals?.status(id)?.approvals).toBe(1);
    });
    expect(state(dir, id, clock.now()).approvals).toBe(1);
  });

  it('an approval for a different call is refused, and approving one call never releases another', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const first = await escalate(dir, clock, '1.0.0');
    clock.advance(10);
    const second = await escalate(dir, clock, '6.6.6');
    expect(second).not.toBe(first);
    // A statement naming `first` but binding the intent of `second`.
    const code = codeOf(() =>
      withData(dir, (data) => {
        const signer = data.localKey('approver-1').signer;
        const other = verifiedChallenge(storedChallenge(data, second), data.registry());
        const forged = approvalStatement({ ...other, challenge_id: first }, signer);
        return appendGovernanceEvent(data, {
          action: 'approval.grant',
          body: { challenge_id: first, statement: forged as never },
          signer,
          at: T0 + 20,
        });
      }),
    );
    expect(code).toBe('GOVERNANCE_EVENT_INVALID');
    approve(dir, first, 'approver-1', T0 + 30);
    approve(dir, first, 'approver-2', T0 + 31);
    clock.set(T0 + TIMELOCK + 100);
    await withRuntime(dir, clock, async (rt) => {
      const other = await rt.execute(deployCall('6.6.6'));
      expect(other.status).toBe('ESCALATED');
      expect(other.approval_challenge_id).toBe(second);
      const approved = await rt.execute(deployCall('1.0.0'));
      expect(approved.status).toBe('SUCCEEDED');
      expect(approved.output).toEqual({ deployed: 'api@1.0.0' });
    });
  });

  it('a grant is used once across runtimes: the next runtime opens a new challenge, and the store refuses a second use', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    approve(dir, id, 'approver-3', T0 + 2);
    clock.set(T0 + TIMELOCK);
    const ran = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(ran.status).toBe('SUCCEEDED');
    expect(state(dir, id, clock.now()).state).toBe('consumed');
    clock.advance(1_000);
    const again = await withRuntime(dir, clock, async (rt) => {
      expect(rt.guardian.approvals?.status(id)?.approvals).toBe(2);
      return rt.execute(deployCall());
    });
    expect(again.status).toBe('ESCALATED');
    expect(again.approval_challenge_id).not.toBe(id);
    // The durable record refuses a second admission naming the grant, whatever memory says.
    const code = codeOf(() =>
      withData(dir, (data) =>
        data.store.admitCallSync({
          id: 'sha256:' + '1'.repeat(64),
          sessionId: 'gov-test',
          chainId: 'gov-test',
          body: {},
          grant: { challengeId: id, decisionId: 'sha256:' + '2'.repeat(64) },
        }),
      ),
    );
    expect(code).toBe('STORE_GRANT_CONSUMED');
  });

  it('an expired challenge takes no approvals and its call is denied APPROVAL_TIMEOUT', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    expect(codeOf(() => approve(dir, id, 'approver-2', T0 + TTL))).toBe('CHALLENGE_CLOSED');
    clock.set(T0 + TTL + 5);
    const late = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(late.status).toBe('DENIED');
    expect(late.reason_code).toBe('APPROVAL_TIMEOUT');
    expect(state(dir, id, clock.now()).state).toBe('expired');
    // The closure is durable: the next runtime opens a new challenge instead of timing out again.
    clock.advance(1_000);
    const next = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(next.status).toBe('ESCALATED');
    expect(next.approval_challenge_id).not.toBe(id);
  });

  it('deny then approve: the approval is refused, and one forced into the log does not count', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    withData(dir, (data) => {
      const signer = data.localKey('approver-3').signer;
      appendGovernanceEvent(data, {
        action: 'approval.deny',
        body: { challenge_id: id, reason: 'not during the freeze' },
        signer,
        at: T0 + 2,
      });
    });
    expect(codeOf(() => approve(dir, id, 'approver-2', T0 + 3))).toBe('CHALLENGE_CLOSED');
    withData(dir, (data) => {
      const signer = data.localKey('approver-2').signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      appendRaw(
        data,
        signGovernanceEvent({
          action: 'approval.grant',
          body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
          signer,
          at: T0 + 4,
          trustAnchor: data.config().trust_anchor,
          chainId: data.config().chain_id,
        }),
      );
    });
    clock.set(T0 + TIMELOCK + 1);
    const r = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(r.status).toBe('ESCALATED');
    expect(r.approval_challenge_id).not.toBe(id);
    const view = state(dir, id, clock.now());
    expect(view.state).toBe('denied');
    expect(view.answers.map((a) => [a.action, a.status])).toEqual([
      ['approval.grant', 'applied'],
      ['approval.deny', 'applied'],
      ['approval.grant', 'rejected'],
    ]);
  });

  it('an approval signed for another data directory is refused on import', async () => {
    const a = freshGovernance();
    const b = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(a.dir, clock);
    const envelope = withData(a.dir, (data) => {
      const signer = data.localKey('approver-1').signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      return signGovernanceEvent({
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
        signer,
        at: T0 + 1,
        trustAnchor: data.config().trust_anchor,
        chainId: data.config().chain_id,
      });
    });
    // Into b: b's registry does not know a's approver key.
    expect(codeOf(() => withData(b.dir, (data) => importGovernanceEvent(data, envelope, T0 + 2)))).toBe(
      'KEY_NOT_VALID',
    );
    // Twice into a: the same signed event is one event.
    withData(a.dir, (data) => importGovernanceEvent(data, envelope, T0 + 2));
    expect(codeOf(() => withData(a.dir, (data) => importGovernanceEvent(data, envelope, T0 + 2)))).toBe(
      'GOVERNANCE_EVENT_INVALID',
    );
  });
});

describe('I-GOVERN-2 edges', () => {
  it('an imported approval is judged by the importer’s clock, not the signer’s claim', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    const envelope = withData(dir, (data) => {
      const signer = data.localKey('approver-1').signer;
      const c = verifiedChallenge(storedChallenge(data, id), data.registry());
      return signGovernanceEvent({
        action: 'approval.grant',
        body: { challenge_id: id, statement: approvalStatement(c, signer) as never },
        signer,
        at: T0 + 1, // claims to be early
        trustAnchor: data.config().trust_anchor,
        chainId: data.config().chain_id,
      });
    });
    expect(codeOf(() => withData(dir, (data) => importGovernanceEvent(data, envelope, T0 + TTL + 1)))).toBe(
      'CHALLENGE_CLOSED',
    );
    expect(withData(dir, (data) => importGovernanceEvent(data, envelope, T0 + 2)).seq).toBe(1);
  });

  it('after a guardian key rotation an earlier challenge is invalid: not approvable, not restored, the call escalates anew', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    approve(dir, id, 'approver-1', T0 + 1);
    withData(dir, (data) => {
      const registry = data.registry();
      const seed = new Uint8Array(32).fill(0x44);
      const next = createSigner(seed);
      const old = data.localKey('guardian').signer.keyId;
      data.appendTrustEvent(
        registry,
        commitTrustEvent(registry, { kind: 'key_rotate', keyid: old, newPublicKey: next.publicKey }, [
          ...data.rootSigners(registry),
          next,
        ]),
      );
      data.writeKey('guardian', ['guardian'], seed);
    });
    expect(state(dir, id, T0 + 2).state).toBe('invalid');
    expect(codeOf(() => approve(dir, id, 'approver-2', T0 + 2))).toBe('GOVERNANCE_EVENT_INVALID');
    clock.set(T0 + TIMELOCK + 1);
    const r = await withRuntime(dir, clock, async (rt) => {
      expect(rt.guardian.approvals?.getChallenge(id)).toBeUndefined();
      return rt.execute(deployCall());
    });
    expect(r.status).toBe('ESCALATED');
    expect(r.approval_challenge_id).not.toBe(id);
  });
});

/** Append a signed event as a writer with a key but no CLI would: skipping the action's check. */
function appendRaw(data: import('../src/index.ts').DataDir, envelope: ReturnType<typeof signEnvelope>) {
  const registry = data.registry();
  const store = data.store;
  store.appendGovernanceEventSync((head) => {
    const seq = (head?.seq ?? 0) + 1;
    const prev = head?.chain ?? `sha256:${'0'.repeat(64)}`;
    const digest = governanceEventDigest(envelope);
    return {
      seq,
      digest,
      prev,
      chain: governanceLink(seq, prev, digest, registry.seq),
      action: 'approval.grant',
      signer: envelope.signatures[0]?.keyid as string,
      subject: (readBody(envelope) as { body: { challenge_id: string } }).body.challenge_id,
      trustSeq: registry.seq,
      envelope,
    };
  });
}

import { commitTrustEvent } from '@helm/trust';
import { governanceEventDigest, governanceLink } from '../src/index.ts';

function readBody(envelope: { payload: string }): unknown {
  return JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8'));
}

describe('approvals across runtimes — the workflow', () => {
  it('escalate, approve 2-of-3 in separate steps, run once after the timelock; the pack verifies and re-executes byte for byte', async () => {
    const { dir, anchor } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await escalate(dir, clock);
    const stored = withData(dir, (data) => storedChallenge(data, id));
    expect(stored.request).toMatchObject({
      tool: 'deploy',
      principal: 'alice',
      args: { service: 'api', version: '1.2.3' },
    });
    expect(state(dir, id, T0).state).toBe('pending');
    approve(dir, id, 'approver-1', T0 + 1_000);
    expect(state(dir, id, T0 + 1_000)).toMatchObject({ state: 'pending', approvals: 1, needed: 1 });
    approve(dir, id, 'approver-2', T0 + 2_000);
    expect(state(dir, id, T0 + 2_000).state).toBe('timelocked');
    // Before the timelock: held again (same challenge).
    clock.set(T0 + 3_000);
    const early = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(early.status).toBe('ESCALATED');
    expect(early.approval_challenge_id).toBe(id);
    expect(state(dir, id, T0 + TIMELOCK).state).toBe('approved');
    clock.set(T0 + TIMELOCK + 500);
    const ran = await withRuntime(dir, clock, (rt) => rt.execute(deployCall()));
    expect(ran.status).toBe('SUCCEEDED');
    expect(ran.output).toEqual({ deployed: 'api@1.2.3' });
    // Each approval was applied exactly once, in the runtime that first saw it.
    const applied = withData(dir, (data) => data.store.governanceAppliedSync());
    expect(applied.map((a) => [a.seq, (a.record as { outcome: string; epoch: number }).epoch])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(withData(dir, (data) => readGovernanceLog(data)).map((e) => e.action)).toEqual([
      'approval.grant',
      'approval.grant',
    ]);
    const pack = withData(dir, (data) => exportPack(data));
    expect((await verifyEvidencePack(pack.bytes, { trustAnchor: anchor })).status).toBe('PASS');
    const again = await withData(dir, (data) => reexecute(data));
    expect(again.divergences).toEqual([]);
    expect(again).toMatchObject({ ok: true, calls: 3, identical: 3, events: 2 });
  });

  it('an approval appended while a runtime runs is applied before its next decision', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    await withRuntime(dir, clock, async (rt) => {
      const held = await rt.execute(deployCall());
      const id = held.approval_challenge_id as string;
      approve(dir, id, 'approver-1', T0 + 1);
      approve(dir, id, 'approver-3', T0 + 2);
      clock.set(T0 + TIMELOCK);
      const ran = await rt.execute(deployCall());
      expect(ran.status).toBe('SUCCEEDED');
      expect(await codeOfAsync(() => rt.ingestGovernance())).toBeUndefined();
    });
  });
});
