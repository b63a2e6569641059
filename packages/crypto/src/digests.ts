// Content digests of JSON values: `digest(canonicalBytes(value))`, the rule every content-derived
// identifier in HELM uses (docs/spec/envelope.md §Digests).
import type { Effect } from '@helm/contracts';
import { digestText } from './hash.js';
import { canonicalize } from './jcs.js';

/** `sha256:<hex>` of the RFC 8785 JCS bytes of `value`. */
export function canonicalDigest(value: unknown): string {
  // canonicalize never returns a lone surrogate, so hashing the text is hashing its UTF-8 bytes.
  return digestText(canonicalize(value));
}

/** The effect digest rule (docs/spec/effect.md): digest of the JCS bytes of the whole Effect. */
export function effectDigest(effect: Effect): string {
  return canonicalDigest(effect);
}
