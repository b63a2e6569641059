// The schema PEP's argument step: turn what the caller sent into the one canonical JSON value that
// is hashed, validated and handed to the driver. Arguments arrive either as a JavaScript value or
// as JSON text; text is parsed strictly (duplicate keys, lone surrogates, non-finite numbers and
// trailing garbage are rejected). The value is canonicalized with RFC 8785 JCS and re-read from
// those canonical bytes, so the value validated and executed is exactly the value whose hash is
// signed — later mutation of the caller's object (or a getter returning something else on the next
// read) cannot reach the driver.

import type { JsonValue } from '@helm/contracts/wire';
import { digest } from '@helm/crypto/hash';
import { canonicalize } from '@helm/crypto/jcs';
import { deepFreeze } from './internal/frozen.js';
import { parseJsonText } from './internal/strict-json.js';

const encoder = new TextEncoder();

export interface PreparedArgs {
  /** The canonical value: a fresh, deeply frozen copy parsed from `canonical`. */
  readonly value: JsonValue;
  /** RFC 8785 JCS text of the arguments. */
  readonly canonical: string;
  /** Its UTF-8 bytes (hashed; their length is the egress payload size). */
  readonly canonical_bytes: Uint8Array;
  /** ArgsHash = digest(JCS(args)) = `sha256:<hex>`. */
  readonly args_hash: string;
}

export type PrepareArgsResult =
  | { readonly ok: true; readonly args: PreparedArgs }
  | { readonly ok: false; readonly reason: string };

/** Canonicalize an already-parsed JavaScript value (ARGS_MALFORMED when it is not plain JSON). */
export function prepareArgsValue(input: unknown): PrepareArgsResult {
  let canonical: string;
  let value: unknown;
  try {
    canonical = canonicalize(input);
    // Array holes and other exotic shapes that JCS would print as invalid JSON fail here.
    value = JSON.parse(canonical);
  } catch {
    return { ok: false, reason: 'arguments are not representable JSON' };
  }
  deepFreeze(value);
  const bytes = encoder.encode(canonical);
  return {
    ok: true,
    args: { value: value as JsonValue, canonical, canonical_bytes: bytes, args_hash: digest(bytes) },
  };
}

/** Strictly parse JSON text, then canonicalize it. */
export function prepareArgsText(text: string): PrepareArgsResult {
  const parsed = parseJsonText(text);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return prepareArgsValue(parsed.value);
}
