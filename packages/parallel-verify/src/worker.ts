// Worker entry: phase 1 of receipt-chain verification (signatures and per-receipt checks) over one
// slice, via the pure verifyReceiptSignatures of @helm/receipts. Erasable TypeScript only (Node runs
// it directly from src in tests).
import { parentPort } from 'node:worker_threads';
import type { SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope } from '@helm/crypto';
import { verifyReceiptSignatures } from '@helm/receipts';
import type {
  EnvelopeTask,
  EnvelopeTaskResult,
  EnvelopeVerdict,
  VerifyTask,
  VerifyTaskResult,
} from './protocol.js';

/** Rebuild the slice packed by packSlice (protocol.ts): identical envelope objects, raw ones as sent. */
function unpack(task: VerifyTask): unknown[] {
  const raw = new Map(task.raw);
  const p = task.packed;
  const out: unknown[] = new Array(task.count);
  for (let i = 0; i < task.count; i++) {
    out[i] = raw.has(i)
      ? raw.get(i)
      : { type: p[4 * i], payload: p[4 * i + 1], signatures: [{ keyid: p[4 * i + 2], sig: p[4 * i + 3] }] };
  }
  return out;
}

function verifyEnvelopes(task: EnvelopeTask): EnvelopeTaskResult {
  const verdicts: EnvelopeVerdict[] = [];
  for (const [envelope, pairs] of task.items) {
    const keys = new Map(pairs);
    try {
      openVerifiedEnvelope(envelope as SignedEnvelope, task.type, (keyid) => keys.get(keyid));
      verdicts.push(null);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      verdicts.push({
        message: e instanceof Error ? e.message : String(e),
        ...(typeof code === 'string' ? { code } : {}),
      });
    }
  }
  return { id: task.id, verdicts };
}

parentPort?.on('message', (task: VerifyTask | EnvelopeTask) => {
  if ('kind' in task && task.kind === 'envelopes') {
    let answer: EnvelopeTaskResult;
    try {
      answer = verifyEnvelopes(task);
    } catch (e) {
      answer = { id: task.id, verdicts: [], error: e instanceof Error ? e.message : String(e) };
    }
    parentPort?.postMessage(answer);
    return;
  }
  const slice = task as VerifyTask;
  let result: VerifyTaskResult;
  try {
    const keys = new Map(slice.keys);
    const r = verifyReceiptSignatures(unpack(slice), (keyid) => keys.get(keyid), slice.offset);
    result = r.failure
      ? { id: slice.id, summaries: r.summaries, failure: r.failure }
      : { id: slice.id, summaries: r.summaries };
  } catch (e) {
    result = { id: task.id, summaries: [], error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(result);
});
