// Property tests of the gas model (docs/spec/sandbox.md §5) on random small well-formed programs
// (test/helpers/random-program.ts: nested blocks and if/else, every kind of branch, direct,
// indirect and tail calls between self-charging and pre-paid functions, bounded loops, bulk and
// float instructions). The spec's guarantees checked:
//  - gas over-approximates the instructions executed: a completed call's gas ≥ the original
//    instructions it executed;
//  - no instruction runs before it is paid for: with any budget b, the instructions executed
//    before the run stops (completed or out of gas) are ≤ b — this is what the pre-payment of
//    loop-free callees at their caller's innermost enclosing block must never break;
//  - exactness: a run with budget b succeeds iff b ≥ the gas it needs (G succeeds with 0 left,
//    G − 1 runs out of gas with the counter below zero).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GAS_EXPORT, instrumentModule } from '../src/internal/instrument.ts';
import { randomProgram } from './helpers/random-program.ts';

const OPTS = { maxMemoryPages: 16, maxTableElements: 1000, importPolicy: () => true };

interface Outcome {
  readonly completed: boolean;
  /** What the gas counter holds after the call. */
  readonly remaining: bigint;
  /** The program's `count` global (tick module only). */
  readonly count: bigint;
}

function call(bytes: Uint8Array, budget: bigint | null): Outcome {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const gas = instance.exports[GAS_EXPORT] as WebAssembly.Global | undefined;
  if (gas !== undefined && budget !== null) gas.value = budget;
  let completed = true;
  try {
    (instance.exports.run as () => void)();
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    completed = false;
  }
  const count = instance.exports.count as WebAssembly.Global | undefined;
  return {
    completed,
    remaining: gas === undefined ? 0n : (gas.value as bigint),
    count: count === undefined ? 0n : (count.value as bigint),
  };
}

const choices = fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 300, size: 'max' });
const BIG = 1n << 40n;

describe('gas model (property, fixed seed)', () => {
  it('a completed call is charged at least the instructions it executed, and exactly what it needs', () => {
    fc.assert(
      fc.property(choices, (cs) => {
        const plain = randomProgram(cs, false).bytes;
        // The tick module runs the same control flow and counts 5 per original instruction.
        const executed = call(randomProgram(cs, true).bytes, null).count / 5n;
        const metered = instrumentModule(plain, OPTS).bytes;
        const full = call(metered, BIG);
        expect(full.completed).toBe(true);
        const needed = BIG - full.remaining;
        expect(needed).toBeGreaterThanOrEqual(executed);
        const exact = call(metered, needed);
        expect(exact.completed).toBe(true);
        expect(exact.remaining).toBe(0n);
        const short = call(metered, needed - 1n);
        expect(short.completed).toBe(false);
        expect(short.remaining).toBeLessThan(0n);
      }),
      { numRuns: 150, seed: 1515 },
    );
  });

  it('no instruction runs before it is paid for, whatever the budget', () => {
    fc.assert(
      fc.property(choices, (cs) => {
        // Instrument the tick module itself: `count` then counts every instruction executed (the
        // ticks' own included), and every one of them is metered.
        const metered = instrumentModule(randomProgram(cs, true).bytes, OPTS).bytes;
        const instance = new WebAssembly.Instance(new WebAssembly.Module(metered), {});
        const gas = instance.exports[GAS_EXPORT] as WebAssembly.Global;
        const count = instance.exports.count as WebAssembly.Global;
        const run = (budget: bigint): boolean => {
          gas.value = budget;
          count.value = 0n;
          try {
            (instance.exports.run as () => void)();
            return true;
          } catch (e) {
            if (!(e instanceof WebAssembly.RuntimeError)) throw e;
            return false;
          }
        };
        expect(run(BIG)).toBe(true);
        const needed = BIG - (gas.value as bigint);
        // Every budget up to the one needed (sampled evenly beyond 4000): the run stops at the first
        // charge it cannot pay, and by then it has executed no more than it paid for.
        const step = needed > 4000n ? needed / 4000n : 1n;
        for (let budget = 0n; budget <= needed; budget += step) {
          expect(run(budget)).toBe(budget === needed);
          expect(count.value as bigint).toBeLessThanOrEqual(budget);
        }
      }),
      { numRuns: 150, seed: 2323 },
    );
  });

  it('the generator reaches the pre-payment slot: loop-free internal functions with call sites', () => {
    // Without such programs the properties above would never exercise PrepaySlot.
    const samples = fc.sample(choices, { numRuns: 150, seed: 1515 });
    const withPrepaidCalls = samples.filter((cs) => randomProgram(cs, false).prepaidCallSites > 0);
    expect(withPrepaidCalls.length).toBeGreaterThan(30);
  });
});
