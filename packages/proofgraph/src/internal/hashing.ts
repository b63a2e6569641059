// RFC 9162 §2.1.1 hashing primitives over @helm/crypto's sha256.
import { sha256 } from '@helm/crypto/hash';

/** SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(data.length + 1);
  buf.set(data, 1);
  return sha256(buf);
}

/** SHA-256(0x01 || left || right) for 32-byte children. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

export function half(n: number): number {
  return Math.floor(n / 2);
}

/** log2(n) when n is a power of two, else -1. */
export function log2IfPowerOfTwo(n: number): number {
  let level = 0;
  while (2 ** level < n) level++;
  return 2 ** level === n ? level : -1;
}
