// Matchers: glob semantics, never-match detection, and the soundness of mayOverlap / covers.

import type { PolicyMatch } from '@helm/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileMatch,
  covers,
  globMatch,
  matches,
  mayOverlap,
  neverMatchReason,
} from '../src/internal/match.ts';

describe('glob', () => {
  const table: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['a*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'ab', false],
    ['/x/*/q', '/x/k/q', true],
    ['/x/*/q', '/x/k/z', false],
    ['a**b', 'ab', true],
    ['?', '?', true],
    ['.', 'a', false],
    ['*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
  ];
  it.each(table)('%s ~ %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});

describe('matchers', () => {
  it('evaluates every operator', () => {
    expect(matches({ eq: 1 }, 1)).toBe(true);
    expect(matches({ eq: '1' }, 1)).toBe(false);
    expect(matches({ in: [true, 'x'] }, true)).toBe(true);
    expect(matches({ prefix: 'ab' }, 'abc')).toBe(true);
    expect(matches({ prefix: 'ab' }, 5)).toBe(false);
    expect(matches({ glob: 'a*' }, 5)).toBe(false);
    expect(matches({ gte: 1, lt: 3 }, 2)).toBe(true);
    expect(matches({ gt: 1 }, 1)).toBe(false);
    expect(matches({ lte: 1 }, 2)).toBe(false);
    expect(matches({ lt: 1 }, Number.NaN)).toBe(false);
    expect(matches({ gte: 1 }, '2')).toBe(false);
    const compiled = [
      compileMatch({ eq: 'a' }),
      compileMatch({ in: ['a'] }),
      compileMatch({ prefix: 'a' }),
      compileMatch({ glob: 'a*' }),
    ];
    for (const c of compiled) {
      expect(c('a')).toBe(true);
      expect(c('b')).toBe(false);
    }
  });

  it('detects matchers that can never match', () => {
    expect(neverMatchReason({ in: [] })).toMatch(/empty/);
    expect(neverMatchReason({ eq: 'a', prefix: 'b' })).toMatch(/no listed value/);
    expect(neverMatchReason({ gt: 1, lt: 1 })).toMatch(/empty numeric/);
    expect(neverMatchReason({ gte: 1, lte: 1 })).toBeNull();
    expect(neverMatchReason({ gte: 1, lt: 1 })).toMatch(/empty numeric/);
    expect(neverMatchReason({ prefix: 'a', lt: 1 })).toMatch(/string and numeric/);
    expect(neverMatchReason({ prefix: '/a/', glob: '/a/b*' })).toBeNull();
    expect(neverMatchReason({ prefix: '/a/b', glob: '/a*' })).toBeNull();
    expect(neverMatchReason({ prefix: '/a', glob: '/b*' })).toMatch(/disagree/);
  });
});

describe('overlap and cover soundness (property)', () => {
  const values = ['a', 'ab', 'abc', 'b', 'ba', '/x/1', '/x/2', '/y', 1, 2, 5];
  const matchArb: fc.Arbitrary<PolicyMatch> = fc.oneof(
    fc.constantFrom(...values).map((v) => ({ eq: v })),
    fc.subarray(values, { minLength: 1 }).map((v) => ({ in: v })),
    fc.constantFrom('a', 'ab', 'b', '/x/', '/').map((p) => ({ prefix: p })),
    fc.constantFrom('a*', '*b', '/x/*', 'a*c', '*').map((g) => ({ glob: g })),
    fc.record({ gte: fc.integer({ min: 0, max: 5 }), lt: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ gt: fc.integer({ min: 0, max: 5 }) }),
  );
  it('if some value satisfies both, mayOverlap says so', () => {
    fc.assert(
      fc.property(matchArb, matchArb, (a, b) => {
        if (values.some((v) => matches(a, v) && matches(b, v))) expect(mayOverlap(a, b)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('if covers(outer, inner) then every value inner accepts, outer accepts', () => {
    const probe = [...values, 'abx', 'a-c', '/x/zz', 'bb', '/x', 3];
    fc.assert(
      fc.property(matchArb, matchArb, (outer, inner) => {
        if (covers(outer, inner))
          for (const v of probe) if (matches(inner, v)) expect(matches(outer, v)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('covers edge cases', () => {
    expect(covers(undefined, { eq: 'x' })).toBe(true);
    expect(covers({ eq: 'x' }, undefined)).toBe(false);
    expect(covers({ prefix: '/a' }, { prefix: '/a/b' })).toBe(true);
    expect(covers({ prefix: '/a/b' }, { prefix: '/a' })).toBe(false);
    expect(covers({ glob: '/a/*' }, { prefix: '/a/b' })).toBe(true);
    expect(covers({ glob: '/a/*/c' }, { prefix: '/a/b' })).toBe(false);
    expect(covers({ glob: '/a/*' }, { glob: '/a/*' })).toBe(true);
    expect(covers({ glob: '/a/*' }, { gt: 1 })).toBe(false);
    expect(mayOverlap(undefined, { eq: 1 })).toBe(true);
    expect(mayOverlap({ gt: 5 }, { lt: 2 })).toBe(false);
    expect(mayOverlap({ prefix: 'a' }, { gt: 1 })).toBe(false);
    expect(mayOverlap({ glob: '*' }, { glob: 'x*' })).toBe(true);
    expect(mayOverlap({ glob: 'a*' }, { glob: 'b*' })).toBe(false);
  });
});
