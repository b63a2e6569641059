// Recovery (docs/spec/pipeline.md §Admission journal, "Recovery"): every admission the journal
// still holds belongs to a call whose process stopped after admission and before the receipt —
// the effect may have happened — and is closed with a signed FAILED receipt
// EXECUTION_INTERRUPTED, the reservation charged.
import { DECISION_TYPE, type DecisionRecord } from '@helm/contracts/decision';
import type { ReceiptEvidenceValue } from '@helm/contracts/receipt';
import { openVerifiedEnvelope } from '@helm/crypto/envelope';
import { isDigest } from '@helm/crypto/hash';
import type { GovernedCall, MintedReceipt } from '@helm/receipts';
import type { ExecuteResult } from '../../executor.js';
import type { ReceiptPort } from '../../governance.js';
import type { AdmissionEntry } from '../../journal.js';
import { describeThrown } from '../describe-error.js';
import { type PipelineContext, UNKNOWN_EFFECT_CLASS } from './call.js';

const CODE = 'EXECUTION_INTERRUPTED';

/**
 * What recovery may sign for a journal entry: only what the guardian signed. The entry is data a
 * data-directory writer can edit, so its decision envelope is verified in full under a guardian
 * key and every call field comes from that decision (I-RECOVERY-1); an entry whose decision does
 * not verify, is not an ALLOW, or is not the entry's own is never receipted.
 */
function verifiedAdmission(ctx: PipelineContext, entry: AdmissionEntry): DecisionRecord | null {
  try {
    const decision = openVerifiedEnvelope<DecisionRecord & { readonly [k: string]: unknown }>(
      entry.decision,
      DECISION_TYPE,
      ctx.guardianKeys,
    ).body;
    const own =
      decision.verdict === 'ALLOW' &&
      decision.reason_code === 'ALLOW' &&
      typeof decision.effect_digest === 'string' &&
      // The admission id is the authorizing decision's id (set so at step 8b).
      entry.admission_id === decision.decision_id &&
      entry.decision_id === decision.decision_id;
    return own ? decision : null;
  } catch {
    return null;
  }
}

/** Evidence recovery carries over from an entry: known keys with digest values only. */
function recoveredEvidence(entry: AdmissionEntry): Record<string, ReceiptEvidenceValue> {
  const out: Record<string, ReceiptEvidenceValue> = {};
  const evidence = (entry.evidence ?? {}) as Readonly<Record<string, unknown>>;
  for (const key of ['descriptor_digest', 'idempotency_key'] as const) {
    const value = Object.hasOwn(evidence, key) ? evidence[key] : undefined;
    if (typeof value === 'string' && isDigest(value)) out[key] = value;
  }
  return out;
}

/** The result for an entry that carries no verifiable ALLOW decision of its own (nothing signed). */
function unverifiable(entry: AdmissionEntry): ExecuteResult {
  return {
    status: 'FAILED',
    verdict: 'DENY',
    reason_code: 'INTERNAL_ERROR',
    receipt: null,
    receipt_hash: null,
    decision: null,
    decision_id: typeof entry?.decision_id === 'string' ? entry.decision_id : '',
    args_hash: null,
    idempotency_key: null,
    replayed: false,
    approval_challenge_id: null,
    admission_id: typeof entry?.admission_id === 'string' ? entry.admission_id : null,
    message:
      'the admission entry carries no verifiable ALLOW decision of its own; nothing was signed and the entry stays open',
  };
}

/** The interruption receipt's call fields: those of the verified decision. */
function interruptedCall(
  ctx: PipelineContext,
  entry: AdmissionEntry,
  decision: DecisionRecord,
): GovernedCall {
  const registered = ctx.registry.get(decision.tool);
  return {
    decision_id: decision.decision_id,
    effect_id: decision.effect_digest,
    // The receipt policy (and so the risk tier) follows the pinned tool when it is registered.
    effect_class: registered ? registered.descriptor.effect_type : UNKNOWN_EFFECT_CLASS,
    args_hash: decision.args_hash,
    // The request the admitted call was made with, as the executor digested it at admission
    // (a digest or null; anything else in the entry is not a request digest and is not signed).
    request_digest:
      typeof entry.request_digest === 'string' && isDigest(entry.request_digest)
        ? entry.request_digest
        : null,
    session_id: decision.session_id,
    policy_hash: decision.policy_stack_hash,
    tool: decision.tool,
    principal: decision.principal,
    issued_at_ms: ctx.now(),
  };
}

/** The receipt exists: close the entry, append the node, charge the reservation; the message to report. */
async function closeInterrupted(
  ctx: PipelineContext,
  entry: AdmissionEntry,
  decision: DecisionRecord,
  receipt: MintedReceipt,
): Promise<string> {
  let message = 'the process stopped after admission and before the receipt; the effect may have happened';
  try {
    await ctx.journal.complete(entry.admission_id);
  } catch {
    // The embedding's transaction closes the entry with the receipt.
  }
  try {
    await ctx.proofgraph.recordReceipt({
      receipt: receipt.envelope,
      receipt_body: receipt.body,
      receipt_hash: receipt.hash,
      decision: entry.decision,
    });
  } catch (error) {
    message = `${message}; ProofGraph append failed: ${describeThrown(error)}`;
  }
  if (decision.budget_reservation_id) {
    try {
      // Charged, not refunded: the effect may have happened (budgets err towards less authority).
      await ctx.guardian.commitBudget(decision.budget_reservation_id);
    } catch {
      // An unknown or already settled reservation has nothing left to resolve.
    }
  }
  return message;
}

/** Receipt one interrupted admission (see `Executor#recover`). */
async function recoverOne(ctx: PipelineContext, entry: AdmissionEntry): Promise<ExecuteResult> {
  const decision = verifiedAdmission(ctx, entry);
  if (decision === null) return unverifiable(entry);
  const call = interruptedCall(ctx, entry, decision);
  const base = {
    verdict: 'DENY' as const,
    decision: entry.decision,
    decision_id: decision.decision_id,
    args_hash: decision.args_hash,
    idempotency_key: typeof entry.idempotency_key === 'string' ? entry.idempotency_key : null,
    replayed: false,
    approval_challenge_id: null,
    admission_id: entry.admission_id,
  };
  let recorded: Awaited<ReturnType<ReceiptPort['recordDenial']>>;
  try {
    const evidence = recoveredEvidence(entry);
    recorded = await ctx.receipts.recordDenial({
      ...call,
      status: 'FAILED',
      verdict: 'DENY',
      reason_code: CODE,
      evidence,
    });
  } catch (error) {
    recorded = { persisted: false, detail: describeThrown(error) };
  }
  if (!recorded.persisted) {
    const message = `${CODE}: the interruption receipt could not be persisted: ${recorded.detail}`;
    const persistFailed = 'RECEIPT_PERSIST_FAILED' as const;
    return {
      ...base,
      status: 'FAILED',
      reason_code: persistFailed,
      receipt: null,
      receipt_hash: null,
      message,
    };
  }
  const receipt = recorded.receipt;
  const message = await closeInterrupted(ctx, entry, decision, receipt);
  return {
    ...base,
    status: 'FAILED',
    reason_code: CODE,
    receipt: receipt.envelope,
    receipt_hash: receipt.hash,
    message,
  };
}

/** Close every admission the journal still holds, oldest first (see `Executor#recover`). */
export async function recoverAdmissions(ctx: PipelineContext): Promise<readonly ExecuteResult[]> {
  const entries = [...(await ctx.journal.pending())];
  const out: ExecuteResult[] = [];
  for (const entry of entries) out.push(await recoverOne(ctx, entry));
  return out;
}
