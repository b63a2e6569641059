// SHA-256 (FIPS 180-4). The one textual digest encoding of the project is `sha256:` followed by
// 64 lowercase hex digits (docs/spec/envelope.md §Digests).
import { DIGEST_PATTERN, DIGEST_PREFIX } from '@helm/contracts/wire';
// node:crypto in Node, @noble/hashes in a browser (package.json "imports").
import { decodeHexChecked, encodeHex, sha256HexOf, sha256Raw } from '#platform';

const DIGEST = new RegExp(DIGEST_PATTERN);

/** Raw SHA-256 of `data` (node:crypto; @noble/hashes in a browser), as a fresh 32-byte array. */
export function sha256(data: Uint8Array): Uint8Array {
  return sha256Raw(data);
}

/** Lowercase hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return sha256HexOf(data);
}

/** `sha256:<hex>` digest of `data` — the one textual digest encoding used everywhere. */
export function digest(data: Uint8Array): string {
  return DIGEST_PREFIX + sha256Hex(data);
}

/**
 * `sha256:<hex>` digest of the UTF-8 encoding of `text`, hashed without materialising the bytes.
 * `text` must be well-formed (canonical JSON always is): a lone surrogate would be hashed as U+FFFD.
 */
export function digestText(text: string): string {
  return DIGEST_PREFIX + sha256HexOf(text);
}

/** True for a `sha256:<64 lowercase hex>` digest string (contracts' DIGEST_PATTERN). */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/** The raw 32 bytes of a `sha256:<hex>` digest string, or undefined if it is not one. */
export function digestBytes(value: unknown): Uint8Array | undefined {
  if (!isDigest(value)) return undefined;
  return decodeHexChecked(value.slice(DIGEST_PREFIX.length));
}

/** The `sha256:<hex>` text of a raw 32-byte SHA-256 value (the inverse of digestBytes). */
export function digestOfRaw(raw: Uint8Array): string {
  return DIGEST_PREFIX + encodeHex(raw);
}
