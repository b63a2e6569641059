// The admission journal (normative: docs/spec/pipeline.md §Admission journal). A write-ahead
// record of every call the executor admitted: written durably BEFORE the driver runs, cleared in
// the same storage transaction as the call's receipt. An entry still open when a process starts
// belongs to a call whose process stopped between admission and receipt — the effect may have
// happened — and `Executor#recover` closes it with a signed EXECUTION_INTERRUPTED receipt. So every
// executed (or possibly executed) call ends with a receipt.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { ReceiptEvidenceValue } from '@helm/contracts/receipt';

export const ADMISSION_TYPE = 'helm.admission.v1';

/** Everything needed to receipt an admitted call without the process that admitted it. */
export interface AdmissionEntry {
  readonly type: typeof ADMISSION_TYPE;
  /** The admission id: the authorizing ALLOW decision's `decision_id` (content-derived). */
  readonly admission_id: string;
  /** Equal to `admission_id` (one value, two names in the `helm.admission.v1` format; recovery checks both). */
  readonly decision_id: string;
  readonly principal: string;
  readonly tenant: string | null;
  readonly session_id: string | null;
  readonly tool: string;
  readonly effect_class: string;
  readonly effect_id: string;
  readonly args_hash: string;
  /**
   * digest(JCS(request)) of the admitted call's request (docs/spec/pipeline.md §Request digest), or
   * null: the interruption receipt recovery writes carries it, like every receipt of the call.
   */
  readonly request_digest: string | null;
  readonly idempotency_key: string;
  readonly policy_hash: string;
  /** The guardian's budget reservation the call holds (resolved by the receipt's transaction). */
  readonly budget_reservation_id: string | null;
  readonly admitted_at_ms: number;
  /** The guardian's signed decision envelope. */
  readonly decision: SignedEnvelope;
  /** Receipt evidence gathered up to admission (descriptor digest, idempotency key…). */
  readonly evidence: Readonly<Record<string, ReceiptEvidenceValue>>;
}

/**
 * Storage port of the admission journal. `admit` must be durable when it resolves (the driver runs
 * only after); `complete` marks the entry closed once the call's receipt exists — a persistent
 * implementation deletes the entry in the receipt's own transaction (the executor reports
 * `admission_id` on the result for that); `pending` lists the entries not closed, oldest first.
 */
export interface AdmissionJournal {
  admit(entry: AdmissionEntry): void | Promise<void>;
  complete(admissionId: string): void | Promise<void>;
  pending(): readonly AdmissionEntry[] | Promise<readonly AdmissionEntry[]>;
}

/** The default journal: process memory (nothing survives a crash, so nothing needs recovery). */
export class InMemoryAdmissionJournal implements AdmissionJournal {
  readonly #open = new Map<string, AdmissionEntry>();

  admit(entry: AdmissionEntry): void {
    this.#open.set(entry.admission_id, entry);
  }

  complete(admissionId: string): void {
    this.#open.delete(admissionId);
  }

  pending(): readonly AdmissionEntry[] {
    return [...this.#open.values()];
  }

  get size(): number {
    return this.#open.size;
  }
}
