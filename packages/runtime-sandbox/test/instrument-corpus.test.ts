// The instrumented bytes of a fixed corpus — the registration bench's adversarial shapes at small
// sizes, seeded random programs (test/helpers/random-program.ts) and three refused modules, with
// and without NaN canonicalization — pinned by one digest over every outcome (the output's SHA-256 and the work
// count, or the refusal message). Re-recorded when the metering scheme changed (2026-12-07: no gas
// local, inline charges on the global): a refactoring must leave it unchanged; a deliberate change
// of the output updates it, with the spec vectors.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type InstrumentOptions, instrumentModule } from '../src/internal/instrument.ts';
import { randomProgram } from './helpers/random-program.ts';
import { body, funcType, hugeBody, I32, manyGrows, moduleOf, SHAPES, vec } from './helpers/shapes.ts';

const OPTIONS: readonly InstrumentOptions[] = [
  { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: () => true },
  { maxMemoryPages: 16, maxTableElements: 1000, importPolicy: () => true, canonicalizeNaN: false },
];

/** The corpus: [name, module] pairs, the same on every run. */
function corpus(): Array<[string, Uint8Array]> {
  const cases: Array<[string, Uint8Array]> = [];
  for (const size of [100, 3000, 60_000]) {
    for (const shape of SHAPES) cases.push([`${shape.name} ${size}`, shape.build(size)]);
  }
  let seed = 2026;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 8;
  };
  // refused: a body over the size limit after instrumentation, a module over the size budget (both
  // found while rewriting), too many locals
  cases.push(['huge body over the body limit', hugeBody(250_000)]);
  cases.push(['memory.grow over the budget', manyGrows(100_000)]);
  const types = vec([funcType([], [])]);
  cases.push([
    'too many locals',
    moduleOf([
      [1, types],
      [3, [1, 0]],
      [10, vec([body([[50_000, I32]], [])])],
    ]),
  ]);
  for (let i = 0; i < 300; i++) {
    const choices = Array.from({ length: 1 + (next() % 300) }, () => next() % 1000);
    cases.push([`random ${i}`, randomProgram(choices, false).bytes]);
    cases.push([`random ${i} ticks`, randomProgram(choices, true).bytes]);
  }
  return cases;
}

function outcome(bytes: Uint8Array, options: InstrumentOptions): string {
  try {
    const m = instrumentModule(bytes, options);
    return `${createHash('sha256').update(m.bytes).digest('hex')} ${m.work}`;
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

describe('instrumented bytes of a fixed corpus', () => {
  it('are the ones recorded (one digest over every outcome)', () => {
    const all = createHash('sha256');
    let refused = 0;
    for (const [name, bytes] of corpus()) {
      for (const options of OPTIONS) {
        const o = outcome(bytes, options);
        if (o.startsWith('refused')) refused++;
        all.update(`${name}: ${o}\n`);
      }
    }
    expect(refused).toBe(6); // (each of the three refused modules, under both options)
    expect(all.digest('hex')).toBe('e6263748ab25714e197bce0837578590d387b6a79b39567a7d5a17c48580a876');
  });
});
