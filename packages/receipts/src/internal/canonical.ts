// Check that a parsed receipt payload was exactly RFC 8785 canonical JSON, fast.
//
// The answer is always that of `isCanonicalJson(text, JSON.parse(text))` from @helm/crypto; only
// the cost differs. Fast path: for a tree that JSON.parse built (plain objects with string keys,
// no symbols, no toJSON, finite numbers unless the text spelled an overflow), JSON.stringify and
// RFC 8785 serialize every leaf the same way; they differ only in member order (enumeration order
// vs sorted code-unit order), in lone surrogates (stringify escapes them, JCS rejects them) and in
// the depth limit. So when the text has no `\ud` escape, every object's keys enumerate in strictly
// ascending UTF-16 order within the depth limit, and JSON.stringify reproduces the text exactly,
// the text is canonical. Any other case (including every non-canonical input) takes the exact
// reference check.
import { RECEIPT_FIELDS } from '@helm/contracts';
import { isCanonicalJson, JCS_MAX_DEPTH } from '@helm/crypto';

/**
 * Top-level member names of a receipt body in canonical (ascending UTF-16) order. A parsed object
 * whose keys are exactly these, in this order, is in canonical order without comparing strings
 * (parsed keys are interned, so `===` is cheap); anything else is compared pairwise.
 */
const RECEIPT_KEYS_IN_ORDER: readonly string[] = [...RECEIPT_FIELDS].sort();

/** Every object in `value` (a JSON.parse result) has strictly ascending keys; depth bounded. */
function keysAscending(value: object, depth: number): boolean {
  if (depth >= JCS_MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null && !keysAscending(item, depth + 1)) return false;
    }
    return true;
  }
  const keys = Object.keys(value);
  let i = 0;
  if (keys.length === RECEIPT_KEYS_IN_ORDER.length) {
    while (i < keys.length && keys[i] === RECEIPT_KEYS_IN_ORDER[i]) i++;
  }
  // keys[0..i) equal a strictly ascending list; compare the rest pairwise from there
  for (let j = Math.max(i, 1); j < keys.length; j++) {
    if ((keys[j - 1] as string) >= (keys[j] as string)) return false;
  }
  // Object.values: one native call (a keyed load per member name would be megamorphic)
  for (const item of Object.values(value)) {
    if (typeof item === 'object' && item !== null && !keysAscending(item, depth + 1)) return false;
  }
  return true;
}

/**
 * Whether `text` is exactly the RFC 8785 canonical form of `value`, where `value` must be
 * `JSON.parse(text)` (the fast path relies on that provenance). Same answer as isCanonicalJson.
 */
export function isCanonicalParsedJson(text: string, value: unknown): boolean {
  if (
    !text.includes('\\ud') &&
    (typeof value !== 'object' || value === null || keysAscending(value, 0)) &&
    JSON.stringify(value) === text
  ) {
    return true;
  }
  return isCanonicalJson(text, value);
}
