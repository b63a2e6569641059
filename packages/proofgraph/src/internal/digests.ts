import { fromHex, toHex } from '@helm/crypto';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Raw 32-byte hash → `sha256:<hex>`. */
export function hashToDigest(hash: Uint8Array): string {
  return `sha256:${toHex(hash)}`;
}

/** `sha256:<hex>` → raw 32 bytes, or undefined when malformed. */
export function digestToHash(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !DIGEST.test(value)) return undefined;
  return fromHex(value.slice(7));
}

export function isDigestString(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

export function isSafeInt(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

export const KEYID = /^ed25519:[0-9a-f]{64}$/;
