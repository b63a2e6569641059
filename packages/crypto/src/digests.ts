// Content digests of JSON values: `digest(canonicalBytes(value))`, the rule every content-derived
// identifier in HELM uses (docs/spec/envelope.md §Digests).
import type { Effect } from '@helm/contracts/effect';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { fromBase64Url } from './encoding.js';
import { stringifiedCanonical } from './fast/canonical-text.js';
import { digest, digestText } from './hash.js';
import { canonicalize } from './jcs.js';

/** `sha256:<hex>` of the RFC 8785 JCS bytes of `value`. */
export function canonicalDigest(value: unknown): string {
  // Neither path returns a lone surrogate, so hashing the text is hashing its UTF-8 bytes. The fast
  // path answers only when its text is provably canonicalize(value) (fast/canonical-text.ts).
  return digestText(stringifiedCanonical(value) ?? canonicalize(value));
}

/** The effect digest rule (docs/spec/effect.md): digest of the JCS bytes of the whole Effect. */
export function effectDigest(effect: Effect): string {
  return canonicalDigest(effect);
}

/**
 * The receipt hash rule (docs/spec/receipt.md §Receipt hash; docs/spec/node.md §Receipt nodes):
 * `digest(raw signature)` of an envelope carrying exactly one well-formed 64-byte signature, else
 * undefined. Strict Ed25519 signatures are deterministic, so the value stands for one (key, payload).
 */
export function soleSignatureDigest(envelope: SignedEnvelope): string | undefined {
  const only = envelope.signatures.length === 1 ? envelope.signatures[0] : undefined;
  const sig = typeof only?.sig === 'string' ? fromBase64Url(only.sig) : undefined;
  return sig?.length === 64 ? digest(sig) : undefined;
}
