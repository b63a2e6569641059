// Worker entry: receives one call at a time, runs it synchronously and posts the outcome back.
// Loaded by the pool as `worker.js` from dist/ or as `worker.ts` from src/ (Node strips the types;
// the worker-side files import each other with `.ts` specifiers, rewritten to `.js` by tsc).
import { parentPort } from 'node:worker_threads';
import { type GuestRequest, runGuest } from './guest-run.ts';

export interface WorkerRequest extends GuestRequest {
  readonly id: number;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (req: WorkerRequest) => {
    try {
      const outcome = runGuest(req);
      port.postMessage({ id: req.id, outcome });
    } catch (e) {
      port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
}
