import { createHash } from 'node:crypto';

/** The project-wide textual digest prefix: `sha256:` followed by 64 lowercase hex digits. */
export const DIGEST_PREFIX = 'sha256:';
const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Raw SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Lowercase hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `sha256:<hex>` digest of `data` — the one textual digest encoding used everywhere. */
export function digest(data: Uint8Array): string {
  return DIGEST_PREFIX + sha256Hex(data);
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}
