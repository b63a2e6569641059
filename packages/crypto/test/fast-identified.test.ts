// fast/identified.ts must give exactly the plain rule of docs/spec/envelope.md §4 —
// id = canonicalDigest(body), text = canonicalize({...body, [idField]: id}) — on arbitrary bodies
// and id names, including the failures (same CryptoError code).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identifiedCanonicalText } from '../src/fast/identified.ts';
import { CryptoError, canonicalDigest, canonicalize } from '../src/index.ts';

function outcome(f: () => { id: string; text: string }): unknown {
  try {
    return f();
  } catch (error) {
    return error instanceof CryptoError ? { code: error.code } : { other: String(error) };
  }
}

function plain(body: object, idField: string): { id: string; text: string } {
  const id = canonicalDigest(body);
  return { id, text: canonicalize({ ...body, [idField]: id }) };
}

const name = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('type', 'receipt_id', 'decision_id', '__proto__', '', 'a', 'z', '10', '\u00e9', '\ud800'),
);

describe('identifiedCanonicalText', () => {
  it('equals the plain two-step rule on arbitrary bodies and id names', () => {
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 }),
        name,
        (body, idField) => {
          fc.pre(!Object.hasOwn(body, idField));
          expect(outcome(() => identifiedCanonicalText(body, idField))).toEqual(
            outcome(() => plain(body, idField)),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('equals the plain rule on the edges of the sort order and on failures', () => {
    const cases: [object, string][] = [
      [{}, 'id'],
      [{ a: 1 }, 'a_id'],
      [{ b: 1 }, 'a'],
      [{ a: 1 }, 'b'],
      [{ type: 'helm.x.v1', z: [1, { y: null }] }, 'decision_id'],
      [{ x: '\ud800' }, 'id'],
      [{ x: 1 }, '\ud800'],
      [{ x: Number.NaN }, 'id'],
    ];
    for (const [body, idField] of cases) {
      expect(outcome(() => identifiedCanonicalText(body, idField))).toEqual(
        outcome(() => plain(body, idField)),
      );
    }
  });
});
