import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CryptoError, canonicalBytes, canonicalize, JCS_MAX_DEPTH, toHex } from '../src/index.ts';

const JCS = new URL('../../../../shared/testdata/jcs/', import.meta.url);
const CASES = ['arrays', 'french', 'structures', 'unicode', 'values', 'weird'];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('RFC 8785 vectors (cyberphone/json-canonicalization)', () => {
  it.each(CASES)('%s canonicalizes byte for byte', (name) => {
    const input = JSON.parse(readFileSync(new URL(`input/${name}.json`, JCS), 'utf8'));
    const expected = new Uint8Array(readFileSync(new URL(`output/${name}.json`, JCS)));
    const hex = readFileSync(new URL(`outhex/${name}.txt`, JCS), 'utf8').replace(/\s+/g, '');
    const actual = canonicalBytes(input);
    expect(toHex(actual)).toBe(hex);
    expect(actual).toEqual(expected);
  });

  it('serializes all 10,000 number lines exactly', () => {
    const lines = readFileSync(new URL('numbers/es6testfile10k.txt', JCS), 'utf8').split('\n');
    const view = new DataView(new ArrayBuffer(8));
    let checked = 0;
    for (const line of lines) {
      if (line === '') continue;
      const comma = line.indexOf(',');
      view.setBigUint64(0, BigInt(`0x${line.slice(0, comma)}`));
      const value = view.getFloat64(0);
      expect(canonicalize(value), line).toBe(line.slice(comma + 1));
      expect(canonicalize([value]), line).toBe(`[${line.slice(comma + 1)}]`);
      checked++;
    }
    expect(checked).toBe(10_000);
  });
});

describe('canonical form', () => {
  it('sorts keys by UTF-16 code units, recursively', () => {
    expect(canonicalize({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    // U+1F600 (surrogates D83D DE00) sorts before U+FB01 by code units, after it by code points
    expect(canonicalize({ '\ufb01': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb01":1}');
    expect(canonicalize({ aa: 1, a: 2, B: 3, '': 4 })).toBe('{"":4,"B":3,"a":2,"aa":1}');
  });

  it('escapes strings like JSON.stringify and keeps non-ASCII as UTF-8', () => {
    expect(canonicalize('a"b\\c\n\u0001\u001f/€')).toBe('"a\\"b\\\\c\\n\\u0001\\u001f/€"');
    expect(toHex(canonicalBytes('é'))).toBe('22c3a922');
    expect(canonicalize('\u2028\u2029')).toBe('"\u2028\u2029"');
  });

  it('serializes literals, -0 and large/small numbers per ECMAScript', () => {
    expect(canonicalize([true, false, null, -0, 1e21, 1e-7, 0.1, 2 ** 53])).toBe(
      '[true,false,null,0,1e+21,1e-7,0.1,9007199254740992]',
    );
    expect(canonicalize({})).toBe('{}');
    expect(canonicalize([])).toBe('[]');
  });

  it('keeps hostile keys as data and never touches prototypes', () => {
    const parsed = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"toString":2}',
    );
    expect(canonicalize(parsed)).toBe(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"toString":2}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const nullProto = Object.create(null);
    nullProto.b = 1;
    nullProto.a = [nullProto.b];
    expect(canonicalize(nullProto)).toBe('{"a":[1],"b":1}');
  });

  it('serializes shared (acyclic) references twice', () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  it('is independent of insertion order', () => {
    expect(canonicalize({ a: 1, b: 2, c: { d: 1, e: 2 } })).toBe(
      canonicalize({ c: { e: 2, d: 1 }, b: 2, a: 1 }),
    );
  });
});

describe('typed rejection of what JSON cannot represent', () => {
  class Thing {
    x = 1;
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const sparse: unknown[] = [1];
  sparse[2] = 3; // index 1 is a hole
  const withSymbolKey = { a: 1, [Symbol('s')]: 2 };

  it.each([
    ['undefined', undefined, 'JCS_UNSUPPORTED_VALUE'],
    ['undefined member', { a: undefined }, 'JCS_UNSUPPORTED_VALUE'],
    ['undefined element', [undefined], 'JCS_UNSUPPORTED_VALUE'],
    ['array hole', sparse, 'JCS_UNSUPPORTED_VALUE'],
    ['function', () => 1, 'JCS_UNSUPPORTED_VALUE'],
    ['toJSON function member', { toJSON: () => 'x' }, 'JCS_UNSUPPORTED_VALUE'],
    ['symbol', Symbol('x'), 'JCS_UNSUPPORTED_VALUE'],
    ['symbol-keyed property', withSymbolKey, 'JCS_UNSUPPORTED_VALUE'],
    ['bigint', 10n, 'JCS_UNSUPPORTED_VALUE'],
    ['NaN', Number.NaN, 'JCS_NON_FINITE_NUMBER'],
    ['Infinity', Number.POSITIVE_INFINITY, 'JCS_NON_FINITE_NUMBER'],
    ['-Infinity', { n: Number.NEGATIVE_INFINITY }, 'JCS_NON_FINITE_NUMBER'],
    ['lone high surrogate', 'a\ud800', 'JCS_LONE_SURROGATE'],
    ['lone low surrogate', '\udc00b', 'JCS_LONE_SURROGATE'],
    ['reversed pair', '\udc00\ud800', 'JCS_LONE_SURROGATE'],
    ['lone surrogate in a key', { 'k\udfff': 1 }, 'JCS_LONE_SURROGATE'],
    ['lone surrogate needing escape too', '"\ud800', 'JCS_LONE_SURROGATE'],
    ['cycle through an object', cyclic, 'JCS_CYCLE'],
    ['cycle through arrays', cyclicArray, 'JCS_CYCLE'],
    ['Date', new Date(0), 'JCS_UNSUPPORTED_VALUE'],
    ['Map', new Map([['a', 1]]), 'JCS_UNSUPPORTED_VALUE'],
    ['Set', new Set([1]), 'JCS_UNSUPPORTED_VALUE'],
    ['class instance', new Thing(), 'JCS_UNSUPPORTED_VALUE'],
    ['Uint8Array', new Uint8Array(2), 'JCS_UNSUPPORTED_VALUE'],
    ['boxed string', new String('x'), 'JCS_UNSUPPORTED_VALUE'],
    ['RegExp', /x/, 'JCS_UNSUPPORTED_VALUE'],
    ['Error', new Error('x'), 'JCS_UNSUPPORTED_VALUE'],
    ['object with a custom prototype', Object.create({ inherited: 1 }), 'JCS_UNSUPPORTED_VALUE'],
  ])('%s', (_label, value, expected) => {
    expect(code(() => canonicalize(value))).toBe(expected);
    expect(code(() => canonicalBytes({ wrapped: [value] }))).toBe(expected);
  });

  it('rejects nesting beyond the depth limit with JCS_TOO_DEEP (not a stack overflow)', () => {
    let deep: unknown = 0;
    for (let i = 0; i < JCS_MAX_DEPTH + 1; i++) deep = [deep];
    expect(code(() => canonicalize(deep))).toBe('JCS_TOO_DEEP');
    let ok: unknown = 0;
    for (let i = 0; i < JCS_MAX_DEPTH; i++) ok = { a: ok };
    expect(canonicalize(ok).length).toBe(JCS_MAX_DEPTH * 6 + 1);
  });

  it('never silently drops: JSON.stringify would, canonicalize throws', () => {
    expect(JSON.stringify({ a: undefined, b: () => 1 })).toBe('{}');
    expect(() => canonicalize({ a: undefined })).toThrow(CryptoError);
  });
});

describe('member order (insertion sort for small objects, built-in sort for large ones)', () => {
  it('equals the UTF-16 code-unit order of Array.prototype.sort for any size and input order', () => {
    const pool = [
      'a',
      'b',
      'B',
      '_',
      '10',
      '9',
      '',
      'é',
      'e\u0301',
      '\u{1F600}',
      '\uffff',
      'aa',
      'a\u0000',
      'Z',
      '~',
    ];
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (const size of [0, 1, 2, 3, 15, 31, 32, 33, 40, 100]) {
      for (let round = 0; round < 20; round++) {
        const keys = new Set<string>();
        while (keys.size < size)
          keys.add(`${pool[Math.floor(rand() * pool.length)]}${Math.floor(rand() * 50)}`);
        const shuffled = [...keys].sort(() => rand() - 0.5);
        const value = Object.fromEntries(shuffled.map((k, i) => [k, i]));
        const expected = `{${Object.keys(value)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${value[k]}`)
          .join(',')}}`;
        expect(canonicalize(value)).toBe(expected);
      }
    }
  });
});
