// RFC 8785 JSON Canonicalization Scheme (normative: docs/spec/jcs.md).
//
// Values: plain objects (prototype Object.prototype or null), arrays, strings, finite numbers,
// booleans and null. Everything else is rejected with a typed CryptoError — never dropped or
// coerced. Object members are the own enumerable string-keyed properties, sorted by UTF-16 code
// units (JavaScript's default string order); symbol-keyed properties are rejected. Strings are
// escaped exactly as ECMAScript JSON.stringify does and numbers use Number.prototype.toString,
// both of which RFC 8785 adopts. `__proto__`, `constructor` etc. are ordinary keys (we only read
// own properties; we never assign into objects).
import { CryptoError } from './errors.js';

/** Maximum nesting depth of arrays/objects accepted by canonicalize (documented in jcs.md). */
export const JCS_MAX_DEPTH = 1000;

const encoder = new TextEncoder();
const OBJECT_PROTOTYPE = Object.prototype;
/** Characters that need escaping, or a surrogate half (without the u flag: UTF-16 code units). */
const NEEDS_ATTENTION = /["\\\u0000-\u001f\ud800-\udfff]/;

interface WellFormed {
  isWellFormed(): boolean;
}

function wellFormed(value: string): boolean {
  return (value as unknown as WellFormed).isWellFormed();
}

function serializeString(value: string): string {
  // Nothing to escape and no surrogate at all: the JSON string is the text in quotes.
  if (!NEEDS_ATTENTION.test(value)) return `"${value}"`;
  if (!wellFormed(value)) throw new CryptoError('JCS_LONE_SURROGATE', 'string contains a lone surrogate');
  return JSON.stringify(value);
}

/** A member name as JCS writes it: the serialized string and a colon. */
function serializeKey(key: string): string {
  return `${serializeString(key)}:`;
}

/** Serializer state: the ancestor path (for cycle detection once the depth limit is hit). */
class Walk {
  depth = 0;
  readonly path: object[] = [];
}

function tooDeep(walk: Walk): never {
  // A structure this deep is either a cycle or simply too deep; tell the caller which.
  if (new Set(walk.path).size < walk.path.length) throw new CryptoError('JCS_CYCLE', 'cyclic structure');
  throw new CryptoError('JCS_TOO_DEEP', `nesting deeper than ${JCS_MAX_DEPTH}`);
}

/** Own member names of a plain object in canonical order; throws for other objects and symbol keys. */
function canonicalKeys(value: object): string[] {
  const proto = Object.getPrototypeOf(value);
  if (proto !== OBJECT_PROTOTYPE && proto !== null) {
    throw new CryptoError('JCS_UNSUPPORTED_VALUE', 'only plain objects and arrays can be canonicalized');
  }
  const keys = Object.keys(value);
  if (Object.getOwnPropertySymbols(value).length !== 0) {
    throw new CryptoError('JCS_UNSUPPORTED_VALUE', 'symbol-keyed properties cannot be canonicalized');
  }
  // Array#sort without a comparator orders strings by UTF-16 code units, as RFC 8785 §3.2.3 requires.
  return keys.sort();
}

function serializeObject(value: object, walk: Walk): string {
  const keys = canonicalKeys(value);
  const n = keys.length;
  if (n === 0) return '{}';
  const record = value as Record<string, unknown>;
  let key = keys[0] as string;
  let out = `{${serializeKey(key)}${serialize(record[key], walk)}`;
  for (let i = 1; i < n; i++) {
    key = keys[i] as string;
    out += `,${serializeKey(key)}${serialize(record[key], walk)}`;
  }
  return `${out}}`;
}

function serializeArray(value: readonly unknown[], walk: Walk): string {
  const n = value.length;
  if (n === 0) return '[]';
  let out = `[${serialize(value[0], walk)}`;
  for (let i = 1; i < n; i++) out += `,${serialize(value[i], walk)}`;
  return `${out}]`;
}

function serialize(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      // NaN and ±Infinity are the only numbers for which x - x !== 0.
      if (value - value !== 0) throw new CryptoError('JCS_NON_FINITE_NUMBER', `cannot canonicalize ${value}`);
      return `${value}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      const depth = walk.depth;
      walk.path[depth] = value;
      walk.depth = depth + 1;
      if (depth >= JCS_MAX_DEPTH) tooDeep(walk);
      const out = Array.isArray(value) ? serializeArray(value, walk) : serializeObject(value, walk);
      walk.depth = depth;
      return out;
    }
    case 'undefined':
      throw new CryptoError('JCS_UNSUPPORTED_VALUE', 'undefined cannot be canonicalized (missing value?)');
    default:
      throw new CryptoError('JCS_UNSUPPORTED_VALUE', `a ${typeof value} cannot be canonicalized`);
  }
}

/** RFC 8785 canonical JSON text of `value`. Throws CryptoError for values JSON cannot represent. */
export function canonicalize(value: unknown): string {
  return serialize(value, new Walk());
}

/**
 * The members of a plain object as canonicalize writes them: `[name, '"name":value']` in canonical
 * order, each value serialized at depth 1 exactly as inside canonicalize(value). Joined with `,` and
 * wrapped in `{}` they are canonicalize(value). Internal (used by fast/identified.ts).
 */
export function canonicalMemberTexts(value: object): [string, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CryptoError('JCS_UNSUPPORTED_VALUE', 'members of a plain object only');
  }
  const keys = canonicalKeys(value);
  const walk = new Walk();
  walk.path[0] = value;
  walk.depth = 1;
  const record = value as Record<string, unknown>;
  return keys.map((key) => [key, serializeKey(key) + serialize(record[key], walk)]);
}

/** UTF-8 bytes of the RFC 8785 canonical form of `value`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}
