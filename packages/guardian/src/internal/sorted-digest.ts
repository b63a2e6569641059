// Fast content digests for the guardian's own flat records. RFC 8785 JCS of an object whose keys
// were inserted in sorted (UTF-16) order, none integer-like, and whose values are strings, finite
// numbers, booleans, null or such objects, is byte-identical to JSON.stringify — except that JCS
// rejects lone surrogates, which JSON.stringify escapes as `\udXXX`. Any output containing such an
// escape falls back to the reference canonicalizer (which throws for real lone surrogates).
// Tests check every record kind against `canonicalBytes`.
import { canonicalBytes, digest } from '@helm/crypto';

const encoder = new TextEncoder();
const SURROGATE_ESCAPE = /\\ud[89a-f]/i;

export function sortedRecordDigest(body: object): string {
  const json = JSON.stringify(body);
  if (SURROGATE_ESCAPE.test(json)) return digest(canonicalBytes(body));
  return digest(encoder.encode(json));
}
