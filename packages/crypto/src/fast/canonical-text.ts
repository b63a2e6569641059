// Fast path of the canonical-payload rule (docs/spec/envelope.md §5 step 4; measured in
// docs/PERFORMANCE.md). The plain rule is
//   body = parseStrictJson(text);  require canonicalize(body) === text
// Here V8's native JSON.parse and JSON.stringify do the work, and the answer is trusted only when
// it is provably the plain rule's: `acceptedCanonical(text)` returns the body only if
//   (1) `text` has no `\u` escape, so every string JSON.parse makes of it is a piece of `text`
//       (well-formed: the openers decode it from strict UTF-8; a raw lone surrogate would anyway
//       come back escaped from JSON.stringify and fail (3)),
//   (2) JSON.parse(text) is an object that passes the walk of stringifiedCanonical below (every
//       object member list, in Object.keys order — the order JSON.stringify writes — strictly
//       ascending by UTF-16 code units; plain JSON values only), within maxDepth,
//   (3) JSON.stringify(body) === text.
// Under (1)–(2), JSON.stringify(body) and canonicalize(body) are the same string:
// RFC 8785 adopts ECMAScript's string escaping and Number-to-String, and the member order is the
// same sorted order. So (3) says canonicalize(body) === text, and a text equal to its own
// canonical form is one the strict parser accepts with the same value (no duplicate member, no
// whitespace, no other number spelling). Everything else — including every text the fast path
// cannot decide — returns undefined and takes the plain rule, which also picks the error code.
// Property test: test/fast-canonical-text.test.ts.
import { MAX_PARSE_DEPTH } from '../json.js';

/** The parsed body when `text` is provably canonical by the rule above; undefined: use the plain rule. */
export function acceptedCanonical(text: string, maxDepth: number): object | undefined {
  // nonsense limits (NaN would silently disable the depth comparison) are the plain rule's to refuse
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_PARSE_DEPTH) return undefined;
  if (text.includes('\\u')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  if (!isStringifyCanonical(body, 0, maxDepth)) return undefined;
  return JSON.stringify(body) === text ? body : undefined;
}

/**
 * Fast path of `canonicalize(value)` for JSON data (used by canonicalDigest): JSON.stringify(value)
 * when it is provably the canonical text, else undefined (use canonicalize, which also throws the
 * right error). JSON.stringify and canonicalize write strings, numbers, booleans, null and arrays
 * identically and objects identically when their members are already in canonical order; they
 * differ only where canonicalize refuses or sorts. So the walk requires, for every node: a string,
 * a finite number, a boolean or null, or an array / plain object (prototype Array.prototype /
 * Object.prototype or null) with no `toJSON` (own or inherited: JSON.stringify would call it), no
 * symbol-keyed member, and (objects) member names strictly ascending in Object.keys order; depth
 * bounded like canonicalize. Lone surrogates (canonicalize refuses them) are caught on the output:
 * JSON.stringify writes one as `\udXXX` (its only other `\u` escapes are `\u00XX`, of control
 * characters), so a text without `\ud` had none in any string or member name; a text with one
 * (possibly just an escaped backslash before `ud`) takes the plain serializer.
 * Property test: test/fast-canonical-text.test.ts.
 */
export function stringifiedCanonical(value: unknown): string | undefined {
  if (!isStringifyCanonical(value, 0, FAST_MAX_DEPTH)) return undefined;
  const text = JSON.stringify(value);
  return text.includes('\\ud') ? undefined : text;
}

/** Far below JCS_MAX_DEPTH: deeper data takes the plain serializer (which reports depth and cycles). */
const FAST_MAX_DEPTH = 64;

/**
 * The walk both fast paths trust JSON.stringify on (see stringifiedCanonical). A container at depth
 * d (the top level is 0) needs d < maxDepth: for acceptedCanonical that is the strict parser's limit.
 */
function isStringifyCanonical(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= maxDepth) return false;
      if ((value as { toJSON?: unknown }).toJSON !== undefined) return false;
      if (Object.getOwnPropertySymbols(value).length !== 0) return false;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++)
          if (!isStringifyCanonical(value[i], depth + 1, maxDepth)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        previous = key;
        if (!isStringifyCanonical((value as Record<string, unknown>)[key], depth + 1, maxDepth)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
