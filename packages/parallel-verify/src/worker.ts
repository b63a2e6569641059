// Worker entry: phase 1 of receipt-chain verification (signatures and per-receipt checks) over one
// slice, via the pure verifyReceiptSignatures of @helm/receipts. Erasable TypeScript only (Node runs
// it directly from src in tests).
import { parentPort } from 'node:worker_threads';
import type { SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope } from '@helm/crypto';
import { checkGraphItem } from '@helm/proofgraph/verify';
import { verifyReceiptSignatures } from '@helm/receipts';
// Types only from protocol.ts: tests run this file from src, where no protocol.js exists.
import type {
  EnvelopeTask,
  EnvelopeTaskResult,
  EnvelopeVerdict,
  NodeTask,
  NodeTaskResult,
  VerifyTask,
  VerifyTaskResult,
} from './protocol.js';

/** Rebuild a slice packed by packSlice: identical envelope objects, raw ones as sent. */
function unpackSlice(
  count: number,
  packed: readonly string[],
  raw: readonly (readonly [number, unknown])[],
): unknown[] {
  const rawAt = new Map(raw);
  const out: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = rawAt.has(i)
      ? rawAt.get(i)
      : {
          type: packed[4 * i],
          payload: packed[4 * i + 1],
          signatures: [{ keyid: packed[4 * i + 2], sig: packed[4 * i + 3] }],
        };
  }
  return out;
}

function unpack(task: VerifyTask): unknown[] {
  return unpackSlice(task.count, task.packed, task.raw);
}

/** Each node alone (checkGraphItem), keys answered by key id; the caller authorizes them. */
function verifyNodes(task: NodeTask): NodeTaskResult {
  const envelopes = unpackSlice(task.count, task.packed, task.raw);
  const payloads = new Map(task.payloads);
  const keys = new Map(task.keys);
  const lookup = (keyid: string) => keys.get(keyid);
  const nodes: NodeTaskResult['nodes'] = [];
  const failures: NodeTaskResult['failures'] = [];
  for (let i = 0; i < task.count; i++) {
    const item = payloads.has(i)
      ? { envelope: envelopes[i], payload: { value: payloads.get(i) } }
      : { envelope: envelopes[i] };
    const c = checkGraphItem(item, { keys: lookup });
    if (c.ok) {
      const b = c.node.body;
      nodes.push({ hash: c.node.hash, lamport: b.lamport, parents: b.parents, keyid: b.keyid, kind: b.kind });
    } else {
      nodes.push(null);
      failures.push([i, c.code, c.message]);
    }
  }
  return { id: task.id, nodes, failures };
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

parentPort?.on('message', (task: VerifyTask | EnvelopeTask | NodeTask) => {
  if ('kind' in task && task.kind === 'nodes') {
    let answer: NodeTaskResult;
    try {
      answer = verifyNodes(task);
    } catch (e) {
      answer = { id: task.id, nodes: [], failures: [], error: e instanceof Error ? e.message : String(e) };
    }
    parentPort?.postMessage(answer);
    return;
  }
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
