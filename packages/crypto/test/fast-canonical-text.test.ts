// fast/canonical-text.ts may only ever accept what the plain rule of docs/spec/envelope.md §5
// step 4 accepts — parseStrictJson(text) then canonicalize(body) === text — with the same body,
// and must accept the canonical texts the envelope paths actually see (or it buys nothing).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDigest } from '../src/digests.ts';
import { acceptedCanonical, stringifiedCanonical } from '../src/fast/canonical-text.ts';
import { digestText } from '../src/hash.ts';
import { canonicalize, parseStrictJson } from '../src/index.ts';

const DEPTH = 8;

/** The plain rule: the body when `text` is strict, canonical JSON of an object, else undefined. */
function plain(text: string, maxDepth: number): unknown {
  try {
    const body = parseStrictJson(text, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth, nullPrototype: false });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    return canonicalize(body) === text ? body : undefined;
  } catch {
    return undefined;
  }
}

function agrees(text: string, maxDepth = DEPTH): void {
  const fast = acceptedCanonical(text, maxDepth);
  if (fast !== undefined) expect(fast).toEqual(plain(text, maxDepth));
}

const key = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.constantFrom('type', '__proto__', 'constructor', '', '1', '10', '9', 'a', 'é', '\u007f', '\ud800'),
);
const leaf = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 2 ** 53 + 1, true, false, null),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), tie('obj')),
  obj: fc.dictionary(key, tie('node'), { maxKeys: 5 }),
})).obj;

/** Spellings of a value that a sloppy serializer might produce. */
function spellings(v: unknown): string[] {
  const stringify = JSON.stringify(v);
  const out = [stringify, JSON.stringify(v, null, 1)];
  try {
    out.push(canonicalize(v));
  } catch {
    // values JCS refuses (lone surrogates, non-finite numbers) still give JSON.stringify texts
  }
  return out;
}

describe('acceptedCanonical (fast path) vs the plain canonical-payload rule', () => {
  it('never accepts what the plain rule refuses, and gives the same body (random values, several spellings)', () => {
    fc.assert(
      fc.property(value, (v) => {
        for (const text of spellings(v)) agrees(text);
      }),
      { seed: 20261207, numRuns: 3000 },
    );
  });

  it('agrees on texts mutated byte by byte (duplicates, order, escapes, numbers, whitespace)', () => {
    fc.assert(
      fc.property(value, fc.nat(), fc.constantFrom(...'{}[]",:\\u0-1eE. \n'.split('')), (v, at, ch) => {
        let text: string;
        try {
          text = canonicalize(v);
        } catch {
          text = JSON.stringify(v);
        }
        const i = at % (text.length + 1);
        agrees(text.slice(0, i) + ch + text.slice(i));
        agrees(text.slice(0, i) + text.slice(i + 1));
      }),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('accepts every canonical object text without \\u escapes (the case it exists for)', () => {
    fc.assert(
      fc.property(value, (v) => {
        let text: string;
        try {
          text = canonicalize(v);
        } catch {
          return;
        }
        if (text.includes('\\u')) return;
        // V8 lists integer-like member names first, in numeric order: such objects are left to the plain rule
        if (/"(0|[1-9][0-9]*)":/.test(text)) return;
        expect(acceptedCanonical(text, 64)).not.toBeUndefined();
        expect(acceptedCanonical(text, 64)).toEqual(plain(text, 64));
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('the traps: each is refused by the fast path (the plain rule then decides)', () => {
    const traps = [
      '{"a":1,"a":1}', // duplicate member, collapsed by JSON.parse
      '{"b":1,"a":2}', // member order
      '{"a":"\\ud800"}', // escaped lone surrogate
      '{"a":"\\u0001"}', // a canonical escape: left to the plain rule (which accepts it)
      '{"a":-0}',
      '{"a":1.0}',
      '{"a":1E2}',
      '{"a":12345678901234567890}',
      '{"a":1e400}',
      '{ "a":1}',
      '{"10":1,"9":2}', // canonical order, but V8 lists "9" first
      '[{"a":1}]', // not an object
      '"x"',
      '{"a":[[[[[[[[[[1]]]]]]]]]]}', // deeper than DEPTH
      '{"__proto__":{"b":1,"a":2}}',
    ];
    for (const text of traps) {
      expect(acceptedCanonical(text, DEPTH), text).toBeUndefined();
      agrees(text);
    }
    expect(plain('{"a":"\\u0001"}', DEPTH)).toEqual({ a: '\u0001' });
    expect(plain('{"10":1,"9":2}', DEPTH)).toEqual({ 9: 2, 10: 1 });
  });

  it('depth: the same limit as the strict parser', () => {
    const nested = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    for (let d = 1; d <= 6; d++) {
      for (let n = 1; n <= 7; n++) {
        const fast = acceptedCanonical(nested(n), d);
        const ok = plain(nested(n), d);
        expect(fast === undefined ? undefined : fast, `n=${n} d=${d}`).toEqual(
          fast === undefined ? undefined : ok,
        );
        if (ok === undefined) expect(fast).toBeUndefined();
      }
    }
  });
});

describe('stringifiedCanonical (fast path of canonicalDigest) vs canonicalize', () => {
  const outcome = (f: () => string | undefined): unknown => {
    try {
      return f();
    } catch (error) {
      return { threw: (error as { code?: string }).code ?? String(error) };
    }
  };

  it('answers only with canonicalize(value), on arbitrary JSON-ish values', () => {
    const anything = fc.oneof(
      value,
      fc.anything({
        maxDepth: 3,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
      }),
    );
    fc.assert(
      fc.property(anything, (v) => {
        const fast = stringifiedCanonical(v);
        if (fast !== undefined) expect(fast).toEqual(outcome(() => canonicalize(v)));
      }),
      { seed: 42, numRuns: 4000 },
    );
  });

  it('answers for the data it exists for (parsed receipts-like bodies in canonical order)', () => {
    fc.assert(
      fc.property(value, (v) => {
        let text: string;
        try {
          text = canonicalize(v);
        } catch {
          return;
        }
        if (/"(0|[1-9][0-9]*)":/.test(text)) return; // V8 lists integer-like names first
        expect(stringifiedCanonical(JSON.parse(text))).toBe(text);
      }),
      { seed: 43, numRuns: 2000 },
    );
  });

  it('the traps: each is refused (canonicalize then sorts, refuses or reports)', () => {
    const withToJSON = { a: 1, toJSON: () => 'x' };
    const inherited = Object.create({ toJSON: () => 'x' }) as Record<string, unknown>;
    inherited.a = 1;
    const sym = { a: 1, [Symbol('s')]: 2 };
    const cyclic: Record<string, unknown> = {};
    cyclic.a = cyclic;
    const sparse: unknown[] = [1];
    sparse[2] = 2; // a hole at index 1
    const deep = JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`);
    const traps: unknown[] = [
      { b: 1, a: 2 },
      { a: '\ud800' },
      { '\udc00': 1 },
      { a: Number.NaN },
      { a: Number.POSITIVE_INFINITY },
      { a: undefined },
      [undefined],
      sparse,
      { a: () => 1 },
      { a: 1n },
      new Date(0),
      new Map(),
      withToJSON,
      inherited,
      sym,
      cyclic,
      deep,
      { a: new Uint8Array(2) },
      Object.assign(Object.create(null) as object, { b: 1, a: 1 }),
    ];
    for (const t of traps) expect(stringifiedCanonical(t)).toBeUndefined();
    expect(stringifiedCanonical(Object.assign(Object.create(null) as object, { a: 1, b: [1, 'x'] }))).toBe(
      '{"a":1,"b":[1,"x"]}',
    );
  });

  it('an Object.prototype.toJSON planted by other code turns the fast path off, not the digest wrong', () => {
    const proto = Object.prototype as { toJSON?: unknown };
    proto.toJSON = () => 'planted';
    try {
      expect(stringifiedCanonical({ a: 1 })).toBeUndefined();
      expect(canonicalize({ a: 1 })).toBe('{"a":1}');
    } finally {
      delete proto.toJSON;
    }
  });
});

describe('prototype and surrogate traps of the leaner checks', () => {
  it('a toJSON planted on Object.prototype or Array.prototype turns acceptedCanonical off', () => {
    for (const proto of [Object.prototype, Array.prototype] as { toJSON?: unknown }[]) {
      proto.toJSON = function (this: unknown) {
        return this;
      };
      try {
        expect(acceptedCanonical('{"a":[1,{"b":2}]}', 128)).toBeUndefined();
      } finally {
        delete proto.toJSON;
      }
    }
    expect(acceptedCanonical('{"a":[1,{"b":2}]}', 128)).toEqual({ a: [1, { b: 2 }] });
  });

  it('lone surrogates anywhere (nested names and values) are refused; an escaped backslash before "ud" takes the plain rule', () => {
    for (const t of [{ a: { b: ['x\udbff'] } }, { a: [{ '\ud800x': 1 }] }, { z: 'ok\udfff' }]) {
      expect(stringifiedCanonical(t)).toBeUndefined();
      expect(() => canonicalDigest(t)).toThrow(expect.objectContaining({ code: 'JCS_LONE_SURROGATE' }));
    }
    const backslash = { a: '\\ud800', b: '\u0001' };
    expect(stringifiedCanonical(backslash)).toBeUndefined();
    expect(canonicalDigest(backslash)).toBe(digestText(canonicalize(backslash)));
    expect(stringifiedCanonical({ a: '\u0001\n' })).toBe(canonicalize({ a: '\u0001\n' }));
  });
});

describe('acceptedCanonical limits', () => {
  it('nonsense depth limits are left to the plain rule (which refuses them)', () => {
    for (const d of [Number.NaN, -1, 1.5, 1001, Number.POSITIVE_INFINITY]) {
      expect(acceptedCanonical('{"a":1}', d)).toBeUndefined();
      expect(plain('{"a":1}', d)).toBeUndefined();
    }
  });
});
