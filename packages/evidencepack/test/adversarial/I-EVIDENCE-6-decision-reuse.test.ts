// I-EVIDENCE-6 / I-EVIDENCE-7 / I-EVIDENCE-5 (red team, finding 3) — the executor-key insider
// holding the CURRENT executor key E2. The DECISIONS step used to bind a guardian decision only to
// the FIRST receipt naming it (args hash, tool/principal of an ALLOW, verdict, the guardian key at
// that receipt's trust_seq); a later receipt naming the same decision_id was checked against
// nothing. So the insider re-signed receipt 5 to name call 1's ALLOW decision while claiming
// another principal and other arguments, rewrote request 5 to match, dropped decision 5 — PASS: a
// SUCCEEDED receipt for a call no guardian decision authorized.
//
// Specified now (evidencepack.md §5 step 11): every full receipt naming a decision is bound to it
// (its binding fields, and the guardian key at THAT receipt's trust_seq), and an ALLOW decision
// authorizes one execution: one receipt names it, or a SUCCEEDED receipt and then the FAILED
// RECEIPT_PERSIST_FAILED receipt of the same call (pipeline.md step 14) — else DECISIONS FAILED,
// detail DECISION_REUSED. DENY/ESCALATE decisions are content-derived and may be named by identical
// calls, each bound to the decision.
import type { SignedEnvelope } from '@helm/contracts';
import type { ReceiptInput } from '@helm/receipts';
import { commitTrustEvent, exportTrustSnapshot, TrustRegistry } from '@helm/trust';
import { beforeAll, describe, expect, it } from 'vitest';
import { envelopeBody, type PackInput, verifyEvidencePack } from '../../src/index.ts';
import {
  append,
  checkOf,
  E2,
  guardian,
  type History,
  hashOf,
  history,
  inputOf,
  resign,
  root,
  seal,
} from '../fixtures/insider.ts';

let h: History;
beforeAll(async () => {
  h = await history();
});

const verify = (bytes: Uint8Array) => verifyEvidencePack(bytes, { trustAnchor: h.anchor, workers: 0 });
const decisionOf = (i: number) =>
  envelopeBody<{ decision_id: string; verdict: string }>(h.decisions[i] as SignedEnvelope);

/**
 * The honest history plus receipt 7, minted by E2 after receipt 6, naming call `k`'s decision with
 * call k's own fields (so every binding holds) and `edit` applied; call k's request recorded again
 * at Lamport 7. `registry` is the trust registry the pack carries (the history's by default).
 */
function withSeventh(k: number, edit: Partial<ReceiptInput>, registry: TrustRegistry = h.registry) {
  const receipts = append(
    h.receipts,
    inputOf(h.receipts[k] as SignedEnvelope, {
      issued_at_ms: 1_767_225_600_100,
      trust_seq: registry.seq,
      trust_head: registry.head,
      ...edit,
    }),
    E2,
  );
  const requests = [...h.requests, { lamport: 7, body: (h.requests[k] as History['requests'][number]).body }];
  const trustSnapshot = exportTrustSnapshot(registry) as unknown as PackInput['trustSnapshot'];
  return seal(h.input({ receipts, requests, trustSnapshot })).bytes;
}

const PERSIST_FAILED = {
  status: 'FAILED',
  verdict: 'DENY',
  reason_code: 'RECEIPT_PERSIST_FAILED',
  output_hash: null,
} as const;

describe('I-EVIDENCE-6: every receipt naming a decision is bound to it, not only the first', () => {
  it('control: the honest pack PASSes', async () => {
    expect((await verify(seal(h.input()).bytes)).status).toBe('PASS');
  });

  it('a receipt re-signed to reuse an earlier ALLOW decision for another principal and arguments is FAILED', async () => {
    const decision1 = decisionOf(0);
    expect(decision1.verdict).toBe('ALLOW');
    const request = { tool: 'files.read', principal: 'mallory', args: { path: '/etc/shadow' } };
    const FORGED = 4; // receipt 5 (index 4), signed by E2 at trust seq 4
    const receipts = resign(
      h.receipts,
      FORGED,
      () => E2,
      (i) =>
        i === FORGED
          ? {
              decision_id: decision1.decision_id,
              principal: request.principal,
              args_hash: hashOf(request.args),
              request_digest: hashOf(request),
            }
          : {},
    );
    const requests = h.requests.map((r, i) =>
      i === FORGED ? { lamport: r.lamport, body: { request, clock_ms: r.body.clock_ms } } : r,
    );
    const decisions = h.decisions.filter((_, i) => i !== FORGED);
    const report = await verify(seal(h.input({ receipts, requests, decisions })).bytes);
    expect(report.status).toBe('FAILED');
    expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED' });
    expect(checkOf(report, 'DECISIONS')?.message).toMatch(
      /receipt at Lamport 5 and (its ALLOW|the) decision disagree/,
    );
  });

  it('a later receipt naming an earlier DENY decision with other arguments is FAILED', async () => {
    const report = await verify(
      withSeventh(1, { status: 'DENIED', args_hash: hashOf({ path: '/etc/shadow' }) }),
    );
    expect(checkOf(report, 'DECISIONS')?.status).toBe('FAILED');
    expect(checkOf(report, 'DECISIONS')?.message).toMatch(/Lamport 7 and the decision disagree on args_hash/);
  });

  it('identical DENY calls may name one (content-derived) DENY decision: PASS', async () => {
    expect(decisionOf(1).verdict).toBe('DENY');
    const report = await verify(withSeventh(1, {}));
    expect(checkOf(report, 'DECISIONS')?.status).toBe('PASS');
    expect(report.status).toBe('PASS');
  });
});

describe('I-EVIDENCE-7: an ALLOW decision authorizes exactly one execution (DECISION_REUSED)', () => {
  it('a second SUCCEEDED receipt for the same ALLOW — every binding field equal — is FAILED, DECISION_REUSED', async () => {
    const report = await verify(withSeventh(0, {}));
    expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED', detail: 'DECISION_REUSED' });
    expect(report.status).toBe('FAILED');
  });

  it('an ALLOW named by a later receipt of another status (not the persist-failure of its call) is DECISION_REUSED', async () => {
    for (const edit of [
      { status: 'DENIED', verdict: 'DENY', reason_code: 'APPROVAL_INVALID', output_hash: null },
      { ...PERSIST_FAILED, reason_code: 'DRIVER_ERROR' },
    ] as const) {
      const report = await verify(withSeventh(0, edit));
      expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED', detail: 'DECISION_REUSED' });
    }
  });

  it("the executor's own pattern — SUCCEEDED, then the call's FAILED RECEIPT_PERSIST_FAILED (pipeline step 14) — PASSes", async () => {
    const report = await verify(withSeventh(0, PERSIST_FAILED));
    expect(checkOf(report, 'DECISIONS')?.status).toBe('PASS');
    expect(report.status).toBe('PASS');
  });

  it('…but only once', async () => {
    const twice = append(
      h.receipts,
      inputOf(h.receipts[0] as SignedEnvelope, {
        ...PERSIST_FAILED,
        issued_at_ms: 1_767_225_600_100,
        trust_seq: h.registry.seq,
        trust_head: h.registry.head,
      }),
      E2,
    );
    const third = append(twice, inputOf(twice[6] as SignedEnvelope, { issued_at_ms: 1_767_225_600_101 }), E2);
    const request = (h.requests[0] as History['requests'][number]).body;
    const requests = [...h.requests, { lamport: 7, body: request }, { lamport: 8, body: request }];
    const report = await verify(seal(h.input({ receipts: third, requests })).bytes);
    expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED', detail: 'DECISION_REUSED' });
  });
});

describe('I-EVIDENCE-5: the guardian key is checked at the trust_seq of every receipt naming the decision', () => {
  it('a later receipt at a trust state where the guardian key is revoked is FAILED (even a DENY that may be shared)', async () => {
    const later = TrustRegistry.load(h.registry.events(), { genesis: h.registry.genesis });
    commitTrustEvent(later, { kind: 'key_revoke', keyid: guardian.keyId }, [root]);
    // The honest pack against that registry still PASSes: its receipts are at seqs 3–4.
    const honest = seal(
      h.input({ trustSnapshot: exportTrustSnapshot(later) as unknown as PackInput['trustSnapshot'] }),
    ).bytes;
    expect((await verify(honest)).status).toBe('PASS');
    for (const [k, edit] of [
      [1, {}],
      [0, PERSIST_FAILED],
    ] as const) {
      const report = await verify(withSeventh(k, edit, later));
      expect(checkOf(report, 'DECISIONS')?.status).toBe('FAILED');
      expect(checkOf(report, 'RECEIPT_CHAIN')?.status).toBe('PASS');
    }
  });
});
