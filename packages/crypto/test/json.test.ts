import { describe, expect, it } from 'vitest';
import { CryptoError, canonicalize, DEFAULT_JSON_LIMITS, parseStrictJson } from '../src/index.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseStrictJson: accepts RFC 8259 JSON', () => {
  it.each([
    ['null', null],
    ['true', true],
    [' false ', false],
    ['0', 0],
    ['-0', -0],
    ['-12.5e+3', -12500],
    ['1E-2', 0.01],
    ['"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00"', 'a"b\\c/d\b\f\n\r\té\u{1f600}'],
    ['[]', []],
    ['[1,[2,[3]]]', [1, [2, [3]]]],
    ['\t\n\r {"a" : [ ] , "b":{}}', { a: [], b: {} }],
    ['"€𝄞"', '€𝄞'],
  ])('%s', (text, expected) => {
    const value = parseStrictJson(text);
    expect(value).toEqual(expected);
    expect(Object.is(value, expected) || typeof expected === 'object').toBe(true);
  });

  it('agrees with JSON.parse on valid input', () => {
    const text = '{"z":[1,2.5,-3e-7,"x",null,true],"a":{"n":{"m":"\\u0041"}},"":""}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson(new TextEncoder().encode(text))).toEqual(JSON.parse(text));
  });

  it('returns null-prototype objects by default and plain ones on request', () => {
    const value = parseStrictJson('{"a":{"b":1}}') as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value.a)).toBeNull();
    expect((value as Record<string, unknown>).toString).toBeUndefined();
    const plain = parseStrictJson('{"a":1}', { nullPrototype: false });
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
  });

  it.each([true, false])('keeps __proto__ / constructor as data (nullPrototype %s)', (nullPrototype) => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    const value = parseStrictJson(text, { nullPrototype }) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(canonicalize(value)).toBe(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    );
  });
});

describe('parseStrictJson: typed rejections', () => {
  it.each([
    ['duplicate key', '{"a":1,"a":2}', 'JSON_DUPLICATE_KEY'],
    ['duplicate key after escapes', '{"a":1,"\\u0061":2}', 'JSON_DUPLICATE_KEY'],
    ['duplicate __proto__', '{"__proto__":1,"__proto__":2}', 'JSON_DUPLICATE_KEY'],
    ['nested duplicate', '[{"x":{"k":1,"k":1}}]', 'JSON_DUPLICATE_KEY'],
    ['escaped lone high surrogate', '"\\ud800"', 'JSON_LONE_SURROGATE'],
    ['escaped lone low surrogate', '"x\\udc00"', 'JSON_LONE_SURROGATE'],
    ['escaped reversed pair', '"\\udc00\\ud800"', 'JSON_LONE_SURROGATE'],
    ['raw lone surrogate', '"a\ud800"', 'JSON_LONE_SURROGATE'],
    ['lone surrogate in a key', '{"\\udfff":1}', 'JSON_LONE_SURROGATE'],
    ['number overflow', '1e400', 'JSON_NUMBER_OUT_OF_RANGE'],
    ['negative overflow', '[-1e309]', 'JSON_NUMBER_OUT_OF_RANGE'],
    ['empty input', '', 'JSON_PARSE_ERROR'],
    ['whitespace only', '  ', 'JSON_PARSE_ERROR'],
    ['BOM', '\ufeff{}', 'JSON_PARSE_ERROR'],
    ['trailing comma in array', '[1,]', 'JSON_PARSE_ERROR'],
    ['trailing comma in object', '{"a":1,}', 'JSON_PARSE_ERROR'],
    ['single quotes', "{'a':1}", 'JSON_PARSE_ERROR'],
    ['unquoted key', '{a:1}', 'JSON_PARSE_ERROR'],
    ['comment', '[1/*x*/]', 'JSON_PARSE_ERROR'],
    ['leading zero', '01', 'JSON_PARSE_ERROR'],
    ['leading plus', '+1', 'JSON_PARSE_ERROR'],
    ['bare dot', '1.', 'JSON_PARSE_ERROR'],
    ['dot first', '.5', 'JSON_PARSE_ERROR'],
    ['empty exponent', '1e', 'JSON_PARSE_ERROR'],
    ['minus only', '-', 'JSON_PARSE_ERROR'],
    ['NaN literal', 'NaN', 'JSON_PARSE_ERROR'],
    ['Infinity literal', '[Infinity]', 'JSON_PARSE_ERROR'],
    ['bad literal', 'tru', 'JSON_PARSE_ERROR'],
    ['raw control character', '"a\u0001"', 'JSON_PARSE_ERROR'],
    ['raw newline in string', '"a\nb"', 'JSON_PARSE_ERROR'],
    ['invalid escape', '"\\x41"', 'JSON_PARSE_ERROR'],
    ['short unicode escape', '"\\u12"', 'JSON_PARSE_ERROR'],
    ['unterminated string', '"abc', 'JSON_PARSE_ERROR'],
    ['unterminated array', '[1,2', 'JSON_PARSE_ERROR'],
    ['unterminated object', '{"a":1', 'JSON_PARSE_ERROR'],
    ['missing colon', '{"a" 1}', 'JSON_PARSE_ERROR'],
    ['missing comma', '[1 2]', 'JSON_PARSE_ERROR'],
    ['non-string key', '{1:2}', 'JSON_PARSE_ERROR'],
    ['trailing garbage', '{} x', 'JSON_PARSE_ERROR'],
    ['two values', '1 2', 'JSON_PARSE_ERROR'],
    ['non-breaking space as whitespace', '\u00a01', 'JSON_PARSE_ERROR'],
  ])('%s', (_label, text, expected) => {
    expect(code(() => parseStrictJson(text))).toBe(expected);
  });

  it('enforces maxDepth exactly', () => {
    expect(parseStrictJson('[[[]]]', { maxDepth: 3 })).toEqual([[[]]]);
    expect(code(() => parseStrictJson('[[[[]]]]', { maxDepth: 3 }))).toBe('JSON_TOO_DEEP');
    expect(code(() => parseStrictJson('{"a":{"b":{"c":{}}}}', { maxDepth: 3 }))).toBe('JSON_TOO_DEEP');
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(code(() => parseStrictJson(deep, { maxBytes: 1_000_000 }))).toBe('JSON_TOO_DEEP');
    expect(DEFAULT_JSON_LIMITS.maxDepth).toBe(128);
  });

  it('fails closed on invalid limits', () => {
    for (const limits of [
      { maxDepth: Number.NaN },
      { maxDepth: -1 },
      { maxDepth: 1.5 },
      { maxDepth: 1001 },
      { maxBytes: Number.NaN },
      { maxBytes: -1 },
    ]) {
      expect(
        code(() => parseStrictJson('1', limits)),
        JSON.stringify(limits),
      ).toBe('JSON_PARSE_ERROR');
    }
    expect(parseStrictJson('1', { maxDepth: 0 })).toBe(1);
    expect(code(() => parseStrictJson('[]', { maxDepth: 0 }))).toBe('JSON_TOO_DEEP');
    expect(parseStrictJson(`${'['.repeat(1000)}${']'.repeat(1000)}`, { maxDepth: 1000 })).toHaveLength(1);
  });

  it('enforces maxBytes on UTF-8 length for strings and bytes', () => {
    expect(parseStrictJson('"abc"', { maxBytes: 5 })).toBe('abc');
    expect(code(() => parseStrictJson('"abcd"', { maxBytes: 5 }))).toBe('JSON_TOO_LARGE');
    // "é" is 1 UTF-16 unit but 2 UTF-8 bytes: 4 bytes total
    expect(parseStrictJson('"é"', { maxBytes: 4 })).toBe('é');
    expect(code(() => parseStrictJson('"é"', { maxBytes: 3 }))).toBe('JSON_TOO_LARGE');
    // a surrogate pair is 4 bytes
    expect(parseStrictJson('"😀"', { maxBytes: 6 })).toBe('😀');
    expect(code(() => parseStrictJson('"😀"', { maxBytes: 5 }))).toBe('JSON_TOO_LARGE');
    expect(code(() => parseStrictJson('"€"', { maxBytes: 4 }))).toBe('JSON_TOO_LARGE');
    expect(code(() => parseStrictJson(new Uint8Array(6).fill(0x20), { maxBytes: 5 }))).toBe('JSON_TOO_LARGE');
  });

  it('rejects invalid UTF-8 and non-text input', () => {
    expect(code(() => parseStrictJson(Uint8Array.of(0x22, 0xc3, 0x22)))).toBe('JSON_PARSE_ERROR');
    expect(code(() => parseStrictJson(Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22)))).toBe('JSON_PARSE_ERROR'); // CESU surrogate
    expect(code(() => parseStrictJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x31)))).toBe('JSON_PARSE_ERROR'); // BOM
    expect(code(() => parseStrictJson(42 as unknown as string))).toBe('JSON_PARSE_ERROR');
  });
});
