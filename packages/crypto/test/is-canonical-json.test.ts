import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, isCanonicalJson } from '../src/index.ts';

/** The reference answer: canonicalize(value) === text, false where canonicalize throws. */
function reference(text: string, value: unknown): boolean {
  try {
    return canonicalize(value) === text;
  } catch {
    return false;
  }
}

describe('isCanonicalJson', () => {
  it('agrees with canonicalize(value) === text on arbitrary JSON values and candidate texts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalize(value);
        expect(isCanonicalJson(canonical, value)).toBe(true);
        const stringified = JSON.stringify(value);
        expect(isCanonicalJson(stringified, value)).toBe(reference(stringified, value));
        const spaced = JSON.stringify(value, null, 1);
        expect(isCanonicalJson(spaced, value)).toBe(reference(spaced, value));
        // the canonical text of a parsed copy (insertion order = text order) is accepted too
        expect(isCanonicalJson(canonical, JSON.parse(canonical))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the reference on mutated canonical texts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 32, max: 0xffff }), (value, at, code) => {
        const canonical = canonicalize(value);
        const i = canonical.length === 0 ? 0 : at % canonical.length;
        const mutated = canonical.slice(0, i) + String.fromCharCode(code) + canonical.slice(i + 1);
        expect(isCanonicalJson(mutated, value)).toBe(reference(mutated, value));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects key orders, integer-like keys, lone surrogates and non-JSON values exactly like the reference', () => {
    const cases: [string, unknown][] = [
      ['{"b":1,"a":2}', JSON.parse('{"b":1,"a":2}')],
      ['{"a":2,"b":1}', JSON.parse('{"b":1,"a":2}')],
      ['{"10":1,"9":2}', JSON.parse('{"10":1,"9":2}')],
      ['{"9":2,"10":1}', JSON.parse('{"10":1,"9":2}')],
      ['{"a":"\\ud800"}', { a: '\uD800' }],
      ['{"a":"\\\\ud800 is text"}', { a: '\\ud800 is text' }],
      ['{"a":"😀"}', { a: '😀' }],
      ['0', -0],
      ['null', Number.NaN],
      ['{}', { a: undefined }],
      ['"x"', Object('x')],
      ['{}', new Map()],
      ['{"__proto__":1}', JSON.parse('{"__proto__":1}')],
      ['{"a":1}', Object.assign(Object.create(null), { a: 1 })],
      ['{"a":1}', Object.assign({ a: 1 }, { [Symbol('s')]: 2 })],
      ['[1e+21]', [1e21]],
    ];
    for (const [text, value] of cases)
      expect(isCanonicalJson(text, value), text).toBe(reference(text, value));
  });

  it('is false for a cyclic or too deep value instead of throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(isCanonicalJson('{}', cyclic)).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 1100; i++) deep = [deep];
    expect(isCanonicalJson('[]', deep)).toBe(false);
  });
});
