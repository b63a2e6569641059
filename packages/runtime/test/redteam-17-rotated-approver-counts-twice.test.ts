// Red team #17 (I-GOVERN-2, I-APPROVAL-2): quorum is counted per key id and per *claimed* approver
// identity (default: the key id). One approver approves a 2-of-3 challenge with its key, then
// rotates that key (a self-rotation: signed by the key and its successor, no root) and approves
// again with the successor. The rotated-out key's approval keeps counting — the guardian counts
// approvals once, at submission, and never re-checks them — and the successor is a "new" key id,
// so ONE approver meets a quorum of TWO and the held call runs.

import { createSigner } from '@helm/crypto';
import { commitTrustEvent } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import {
  approve,
  deployCall,
  freshGovernance,
  ManualClock,
  T0,
  TIMELOCK,
  withData,
  withRuntime,
} from './governance-fixture.ts';

describe('redteam-17 I-GOVERN-2: one approver, one key rotation, two approvals', () => {
  it('a quorum of 2 is not met by a single approver key and its own successor', async () => {
    const { dir } = freshGovernance();
    const clock = new ManualClock(T0);
    const id = await withRuntime(dir, clock, async (rt) => {
      const held = await rt.execute(deployCall());
      expect(held.status).toBe('ESCALATED');
      return held.approval_challenge_id as string;
    });
    approve(dir, id, 'approver-1', T0 + 1);
    // Apply it (any runtime open does).
    await withRuntime(dir, clock, async () => undefined);

    // approver-1 rotates its own key: signed by itself and the successor only (no root key).
    const successor = createSigner(new Uint8Array(32).fill(42));
    const rotation = withData(dir, (data) => {
      const registry = data.registry();
      const own = data.localKey('approver-1').signer;
      try {
        data.appendTrustEvent(
          registry,
          commitTrustEvent(
            registry,
            { kind: 'key_rotate', keyid: own.keyId, newPublicKey: successor.publicKey },
            [own, successor],
          ),
        );
        return 'self-rotation accepted';
      } catch (error) {
        return `self-rotation refused ${(error as { code?: string }).code}`;
      }
    });
    expect(rotation).toBe('self-rotation accepted');
    approve(dir, id, successor, T0 + 2);

    clock.set(T0 + TIMELOCK + 1);
    const r = await withRuntime(dir, clock, async (rt) => {
      const out = await rt.execute(deployCall());
      return { status: out.status, approvals: rt.guardian.approvals?.status(id)?.approvals };
    });
    // Expected: ESCALATED (one approver) — actually SUCCEEDED with 2 counted approvals.
    expect(r.status, JSON.stringify(r)).not.toBe('SUCCEEDED');
  });
});
