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
import { isCanonicalJson, JCS_MAX_DEPTH } from '@helm/crypto';

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
  let previous = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0 && previous >= key) return false;
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && !keysAscending(item, depth + 1)) return false;
    previous = key;
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
