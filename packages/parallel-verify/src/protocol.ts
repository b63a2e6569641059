// Messages between the pool and its workers (structured-clone friendly).
import type { ReceiptFailure, ReceiptSummary } from '@helm/receipts';

export interface VerifyTask {
  readonly id: number;
  /** Receipt envelopes of one slice. */
  readonly envelopes: readonly unknown[];
  /** Index of the slice's first receipt in the whole sequence. */
  readonly offset: number;
  /** Key set: [keyid, raw public key]. */
  readonly keys: readonly (readonly [string, Uint8Array])[];
}

export interface VerifyTaskResult {
  readonly id: number;
  readonly summaries: ReceiptSummary[];
  readonly failure?: ReceiptFailure;
  /** Set when the worker itself failed (not a verification verdict). */
  readonly error?: string;
}
