// Worker entry: phase 1 of receipt-chain verification (signatures and per-receipt checks) over one
// slice, via the pure verifyReceiptSignatures of @helm/receipts. Erasable TypeScript only (Node runs
// it directly from src in tests).
import { parentPort } from 'node:worker_threads';
import { verifyReceiptSignatures } from '@helm/receipts';
import type { VerifyTask, VerifyTaskResult } from './protocol.js';

parentPort?.on('message', (task: VerifyTask) => {
  let result: VerifyTaskResult;
  try {
    const keys = new Map(task.keys);
    const r = verifyReceiptSignatures(task.envelopes, (keyid) => keys.get(keyid), task.offset);
    result = r.failure
      ? { id: task.id, summaries: r.summaries, failure: r.failure }
      : { id: task.id, summaries: r.summaries };
  } catch (e) {
    result = { id: task.id, summaries: [], error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(result);
});
