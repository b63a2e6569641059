// I-RECOVERY-1 — start-up recovery signs only what the guardian signed. The admission journal is
// data a data-directory writer can edit; a planted or edited entry must not get the executor to sign
// a receipt naming a principal, session, evidence or reservation the guardian never authorized.
import { createSigner, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { type AdmissionEntry, type AdmissionJournal, InMemoryAdmissionJournal } from '../../src/index.ts';
import { aliceContext, body, build } from '../helpers/world.ts';

/** A journal that keeps a copy of every admitted entry, and lets the attacker plant entries. */
class TamperableJournal implements AdmissionJournal {
  readonly inner = new InMemoryAdmissionJournal();
  readonly seen: AdmissionEntry[] = [];
  planted: AdmissionEntry[] = [];
  admit(entry: AdmissionEntry) {
    this.seen.push(entry);
    return this.inner.admit(entry);
  }
  complete(id: string) {
    this.planted = this.planted.filter((e) => e.admission_id !== id);
    return this.inner.complete(id);
  }
  pending() {
    return [...this.planted];
  }
}

async function admittedEntry() {
  const journal = new TamperableJournal();
  const w = build({ journal });
  const r = await w.executor.execute({
    tool: 'files.read',
    principal: 'alice',
    args: { path: '/data/report.csv' },
    context: aliceContext(),
  });
  expect(r.status, `${r.reason_code} ${r.message}`).toBe('SUCCEEDED');
  return { w, journal, entry: journal.seen[0]! };
}

describe('I-RECOVERY-1: recovery signs only what a verified guardian decision says', () => {
  it('an entry with a forged or foreign decision is never receipted', async () => {
    const { w, journal, entry } = await admittedEntry();
    const mallory = createSigner(new Uint8Array(32).fill(99));
    const forgedDecision = signEnvelope(
      { ...body<Record<string, unknown>>(entry.decision), principal: 'ceo' } as never,
      [mallory],
    );
    const before = w.store.range('e2e-session-1', 1, 1000).length;
    journal.planted = [
      { ...entry, admission_id: 'sha256:aaaa', decision_id: 'sha256:aaaa', principal: 'ceo' },
      { ...entry, decision: forgedDecision, principal: 'ceo' },
      { ...entry, admission_id: `sha256:${'b'.repeat(64)}` },
    ];
    const results = await w.executor.recover();
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.receipt).toBeNull();
      expect(r.reason_code).toBe('INTERNAL_ERROR');
    }
    expect(w.store.range('e2e-session-1', 1, 1000)).toHaveLength(before);
  });

  it('edited call fields, evidence and reservation of a real entry are ignored: the receipt says what the decision says', async () => {
    const { w, journal, entry } = await admittedEntry();
    const decision = body<{
      principal: string;
      session_id: string | null;
      budget_reservation_id: string | null;
    }>(entry.decision);
    journal.planted = [
      {
        ...entry,
        principal: 'ceo',
        session_id: `sha256:${'c'.repeat(64)}`,
        tool: 'files.stat',
        effect_class: 'unknown.low',
        budget_reservation_id: 'someone-elses-reservation',
        evidence: { ...entry.evidence, approval_ids: ['forged-approval'], descriptor_digest: 'not-a-digest' },
      },
    ];
    const [r] = await w.executor.recover();
    expect(r!.reason_code).toBe('EXECUTION_INTERRUPTED');
    const receipt = body<{
      principal: string;
      session_id: string | null;
      tool: string;
      effect_class: string;
      evidence: Record<string, unknown>;
    }>(r!.receipt!);
    expect(receipt.principal).toBe(decision.principal);
    expect(receipt.session_id).toBe(decision.session_id);
    expect(receipt.tool).toBe('files.read');
    expect(receipt.effect_class).toBe('fs.read');
    expect(receipt.evidence.approval_ids).toBeUndefined();
    expect(receipt.evidence.descriptor_digest).toBeUndefined();
    expect(receipt.evidence.idempotency_key).toBe(entry.evidence.idempotency_key);
  });
});
