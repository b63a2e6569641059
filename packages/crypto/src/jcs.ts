// RFC 8785 JSON Canonicalization Scheme. Object keys are sorted by UTF-16 code units; strings and
// numbers are serialized exactly as ECMAScript JSON.stringify does (which RFC 8785 adopts).
import { CryptoError } from './errors.js';

const encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(value: string): string {
  if (LONE_SURROGATE.test(value))
    throw new CryptoError('JCS_LONE_SURROGATE', 'string contains a lone surrogate');
  return JSON.stringify(value);
}

function serialize(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new CryptoError('JCS_NON_FINITE_NUMBER', `cannot canonicalize ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (seen.has(value)) throw new CryptoError('JCS_CYCLE', 'cyclic structure');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((item) => serialize(item, seen)).join(',')}]`;
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new CryptoError(
            'JCS_UNSUPPORTED_VALUE',
            'only plain objects and arrays can be canonicalized',
          );
        }
        const keys = Object.keys(value).sort();
        const parts: string[] = [];
        for (const key of keys) {
          parts.push(`${serializeString(key)}:${serialize((value as Record<string, unknown>)[key], seen)}`);
        }
        out = `{${parts.join(',')}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new CryptoError('JCS_UNSUPPORTED_VALUE', `cannot canonicalize a value of type ${typeof value}`);
  }
}

/** RFC 8785 canonical JSON text of `value`. Throws CryptoError for values JSON cannot represent. */
export function canonicalize(value: unknown): string {
  return serialize(value, new Set());
}

/** UTF-8 bytes of the RFC 8785 canonical form of `value`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}
