// Strict JSON (RFC 8259) parser for untrusted text (normative: docs/spec/jcs.md §Parsing).
//
// Unlike JSON.parse it rejects, with typed CryptoErrors: duplicate object keys (JSON_DUPLICATE_KEY),
// lone surrogates whether raw or escaped like "\ud800" (JSON_LONE_SURROGATE), numbers outside the
// finite binary64 range (JSON_NUMBER_OUT_OF_RANGE), nesting deeper than `maxDepth`
// (JSON_TOO_DEEP), input longer than `maxBytes` UTF-8 bytes (JSON_TOO_LARGE), and any other
// deviation from the grammar (JSON_PARSE_ERROR: BOM, comments, trailing commas, single quotes,
// leading zeros, raw control characters in strings, trailing garbage …).
//
// Hostile keys are data: `__proto__`, `constructor`, `prototype` become own data properties and
// never touch any prototype. By default objects are created with a null prototype, so a missing
// member never resolves to an Object.prototype function either.
import type { JsonValue } from '@helm/contracts/wire';
import { CryptoError } from './errors.js';

export interface JsonLimits {
  /** Maximum input size in UTF-8 bytes (default 8 MiB). */
  readonly maxBytes?: number;
  /** Maximum nesting depth of arrays/objects; the top-level value is depth 0 (default 128, at most 1000). */
  readonly maxDepth?: number;
  /**
   * Create objects with a null prototype (default true). With false, objects are ordinary
   * `{}`-style objects, exactly like JSON.parse (own `__proto__` keys are still plain data).
   */
  readonly nullPrototype?: boolean;
}

/** Hard ceiling for `maxDepth` (deeper data could not be canonicalized anyway: JCS_MAX_DEPTH). */
export const MAX_PARSE_DEPTH = 1000;

export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonLimits>> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 128,
  nullPrototype: true,
});

/** An integer JSON number that is a safe integer (|n| ≤ 2^53 − 1) and at least `min`. */
export function isSafeInt(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** The one-character escapes of RFC 8259 §7 (after the backslash) and the character each stands for. */
const SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);
/** A (possibly empty) run of string characters that need no attention: not `"`, `\\`, or a control. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

interface WellFormed {
  isWellFormed(): boolean;
}

/** UTF-8 length of a string (a lone high surrogate counts 1; only used as a size bound). */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // a surrogate pair is 4 bytes: the high half adds 0, the low half adds 2.
    if (c >= 0x80) n += c < 0x800 ? 1 : c >= 0xd800 && c <= 0xdbff ? 0 : 2;
  }
  return n;
}

class Parser {
  pos = 0;
  readonly text: string;
  readonly maxDepth: number;
  readonly nullProto: boolean;

  constructor(text: string, maxDepth: number, nullProto: boolean) {
    this.text = text;
    this.maxDepth = maxDepth;
    this.nullProto = nullProto;
  }

  fail(what: string): never {
    throw new CryptoError('JSON_PARSE_ERROR', `${what} at offset ${this.pos}`);
  }

  failAt(pos: number, what: string): never {
    this.pos = pos;
    return this.fail(what);
  }

  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  parseValue(depth: number): JsonValue {
    this.skipWs();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth);
      case 0x5b: // [
        return this.parseArray(depth);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
    }
  }

  literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return value;
  }

  /** Offset of the first non-digit at or after `p`. */
  digitsEnd(p: number): number {
    const t = this.text;
    let c = t.charCodeAt(p);
    while (c >= 0x30 && c <= 0x39) c = t.charCodeAt(++p);
    return p;
  }

  parseNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const first = t.charCodeAt(p);
    if (first === 0x30) p++;
    else if (first >= 0x31 && first <= 0x39) p = this.digitsEnd(p + 1);
    else this.failAt(p, 'invalid number');
    if (t.charCodeAt(p) === 0x2e) {
      const q = this.digitsEnd(p + 1);
      if (q === p + 1) this.failAt(q, 'invalid number fraction');
      p = q;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = t.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      const q = this.digitsEnd(p);
      if (q === p) this.failAt(q, 'invalid number exponent');
      p = q;
    }
    this.pos = p;
    const value = Number(t.slice(start, p));
    if (value - value !== 0) {
      throw new CryptoError('JSON_NUMBER_OUT_OF_RANGE', `number out of binary64 range at offset ${start}`);
    }
    return value;
  }

  parseString(): string {
    const t = this.text;
    let p = this.pos + 1; // after the opening quote
    let chunkStart = p;
    let out = '';
    for (;;) {
      // skip a run of ordinary characters in one native step
      PLAIN_RUN.lastIndex = p;
      PLAIN_RUN.test(t);
      p = PLAIN_RUN.lastIndex;
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c === 0x5c) {
        out += t.slice(chunkStart, p);
        p++;
        const e = t.charCodeAt(p);
        const simple = SIMPLE_ESCAPES.get(e);
        if (simple !== undefined) {
          out += simple;
        } else if (e === 0x75) {
          const hex = t.slice(p + 1, p + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = p;
            this.fail('invalid \\u escape');
          }
          out += String.fromCharCode(Number.parseInt(hex, 16));
          p += 4;
        } else {
          this.pos = p;
          this.fail('invalid escape');
        }
        p++;
        chunkStart = p;
      } else {
        // after a plain run only a raw control character or the end of input is left
        this.pos = p;
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'raw control character in string');
      }
    }
    out += t.slice(chunkStart, p);
    if (!(out as unknown as WellFormed).isWellFormed()) {
      throw new CryptoError('JSON_LONE_SURROGATE', `string with a lone surrogate at offset ${this.pos}`);
    }
    this.pos = p + 1;
    return out;
  }

  parseArray(depth: number): JsonValue[] {
    if (depth >= this.maxDepth)
      throw new CryptoError('JSON_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth + 1));
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  parseObject(depth: number): { [key: string]: JsonValue } {
    if (depth >= this.maxDepth)
      throw new CryptoError('JSON_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const out: { [key: string]: JsonValue } = this.nullProto ? Object.create(null) : {};
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const keyAt = this.pos;
      const key = this.parseString();
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      const value = this.parseValue(depth + 1);
      if (Object.hasOwn(out, key)) {
        throw new CryptoError(
          'JSON_DUPLICATE_KEY',
          `duplicate key ${JSON.stringify(key)} at offset ${keyAt}`,
        );
      }
      if (key === '__proto__') {
        // defineProperty, not assignment: `__proto__` stays an own data property.
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = value;
      }
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}

/**
 * Parse untrusted JSON text (a string, or UTF-8 bytes which must be valid UTF-8 without a BOM)
 * under strict rules and limits. Throws CryptoError; never returns partial data.
 */
export function parseStrictJson(input: string | Uint8Array, limits: JsonLimits = {}): JsonValue {
  const maxBytes = limits.maxBytes ?? DEFAULT_JSON_LIMITS.maxBytes;
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  // fail closed on nonsense limits (NaN would silently disable a comparison)
  if (!(maxBytes >= 0) || !Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_PARSE_DEPTH) {
    throw new CryptoError('JSON_PARSE_ERROR', `invalid limits: maxDepth must be 0..${MAX_PARSE_DEPTH}`);
  }
  const nullProto = limits.nullPrototype ?? DEFAULT_JSON_LIMITS.nullPrototype;
  let text: string;
  if (typeof input === 'string') {
    // UTF-8 length ≥ UTF-16 length, and ≤ 3× it: count exactly only when it matters.
    if (input.length > maxBytes || (input.length * 3 > maxBytes && utf8Length(input) > maxBytes)) {
      throw new CryptoError('JSON_TOO_LARGE', `input exceeds ${maxBytes} bytes`);
    }
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.length > maxBytes) throw new CryptoError('JSON_TOO_LARGE', `input exceeds ${maxBytes} bytes`);
    try {
      text = decoder.decode(input);
    } catch {
      throw new CryptoError('JSON_PARSE_ERROR', 'input is not valid UTF-8');
    }
  } else {
    throw new CryptoError('JSON_PARSE_ERROR', 'input must be a string or UTF-8 bytes');
  }
  const parser = new Parser(text, maxDepth, nullProto);
  const value = parser.parseValue(0);
  parser.skipWs();
  if (parser.pos !== text.length) parser.fail('trailing characters after the JSON value');
  return value;
}
