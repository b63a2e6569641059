// CoalescedRead (the per-call freshness read, #18): callers that ask while a read is in flight
// share the NEXT read, never the one in flight — so no caller gets a reading taken before it asked.
import { describe, expect, it } from 'vitest';
import { CoalescedRead } from '../src/internal/coalesced-read.ts';

/** A read whose completions the test controls; each answer is the number of the read (1, 2, …). */
function controlled() {
  const pending: { n: number; done: (fail?: Error) => void }[] = [];
  let started = 0;
  const read = new CoalescedRead<number>(
    () =>
      new Promise<number>((resolve, reject) => {
        const n = ++started;
        pending.push({ n, done: (fail) => (fail ? reject(fail) : resolve(n)) });
      }),
  );
  const finish = async (fail?: Error) => {
    const p = pending.shift();
    if (!p) throw new Error('no read in flight');
    p.done(fail);
    // Let the settled read's continuations (the queued read's start) run: every microtask first.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { read, finish, started: () => started };
}

describe('CoalescedRead', () => {
  it('callers arriving while a read is in flight share one later read, each answer started after its caller asked', async () => {
    const { read, finish, started } = controlled();
    const asked: { startedBefore: number; answer: Promise<number> }[] = [];
    const ask = () => asked.push({ startedBefore: started(), answer: read.read('trust') });
    ask(); // read 1 starts
    for (let i = 0; i < 10; i++) ask(); // all join read 2 (not started yet)
    expect(started()).toBe(1);
    await finish(); // read 1 answers; read 2 starts
    expect(started()).toBe(2);
    ask(); // read 2 is in flight: joins read 3
    await finish();
    await finish();
    const answers = await Promise.all(asked.map((a) => a.answer));
    expect(answers).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3]);
    // Never a read that had started when its caller asked.
    for (const [i, a] of asked.entries()) expect(answers[i]).toBeGreaterThan(a.startedBefore);
    expect(read.reads).toBe(3);
  });

  it('a failed read fails its own callers only; callers queued behind it get a fresh read', async () => {
    const { read, finish } = controlled();
    const first = read.read('trust');
    const second = read.read('trust');
    await finish(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await finish();
    expect(await second).toBe(2);
    // Idle again: the next caller starts its own read at once.
    const third = read.read('trust');
    await finish();
    expect(await third).toBe(3);
  });

  it('keys are read independently', async () => {
    const { read, finish, started } = controlled();
    const a = read.read('a');
    const b = read.read('b');
    expect(started()).toBe(2);
    await finish();
    await finish();
    expect([await a, await b]).toEqual([1, 2]);
  });
});
