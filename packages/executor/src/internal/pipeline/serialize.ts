// Step 4 of docs/spec/pipeline.md §Algorithm: repeats of one call are serialized (a repeat waits
// for the call before it), so a stored result exists before the repeat is governed. The queue key
// is a caller claim and only orders calls; what a call may receive is decided after the guardian
// (step 7b).
import type { Prepared } from './call.js';

/** Serialization key of concurrent repeats (caller claims only; it never selects what is released). */
export function queueKey(state: Prepared): string {
  return state.client_key !== null
    ? JSON.stringify(['client', state.principal, state.tenant, state.client_key])
    : JSON.stringify(['derived', state.principal, state.tenant, state.registered.name, state.args_hash]);
}

/**
 * Run `body` once every earlier call with the same key has ended. `queues` holds the tail of each
 * key's queue; the entry is removed when the last queued call ends.
 */
export async function inQueueTurn<T>(
  queues: Map<string, Promise<void>>,
  key: string,
  body: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(key);
  let release = (): void => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous ? previous.then(() => mine) : mine;
  queues.set(key, tail);
  try {
    if (previous) await previous;
    return await body();
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
