// Worker entry: phase 1 of receipt-chain verification (signatures and per-receipt checks) over one
// slice, via the pure verifyReceiptSignatures of @helm/receipts. Erasable TypeScript only (Node runs
// it directly from src in tests).
import { parentPort } from 'node:worker_threads';
import { verifyReceiptSignatures } from '@helm/receipts';
import type { VerifyTask, VerifyTaskResult } from './protocol.js';

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

parentPort?.on('message', (task: VerifyTask) => {
  let result: VerifyTaskResult;
  try {
    const keys = new Map(task.keys);
    const r = verifyReceiptSignatures(unpack(task), (keyid) => keys.get(keyid), task.offset);
    result = r.failure
      ? { id: task.id, summaries: r.summaries, failure: r.failure }
      : { id: task.id, summaries: r.summaries };
  } catch (e) {
    result = { id: task.id, summaries: [], error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(result);
});
