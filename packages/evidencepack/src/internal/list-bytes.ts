// The listed SHA-256 of every archive entry, without holding it: 32 bytes per entry (128 per
// receipt of a bench-shaped pack) was the join's largest column (docs/PERFORMANCE.md, "Memory").
// While the entry list streams in (once, hashed against the signed SHA-256), the SHA-256 of each
// fixed 16 KiB block of it is kept (32 bytes per 16 KiB: 2 MB for a 1,000,000-receipt pack), and
// the join keeps, per listed entry, where its 64 hex digits start. An entry's listed digest is then
// read from the list again, a block at a time (the few blocks in use are cached), and every block
// read again must hash to what the first read gave, so the digits compared are the signed ones; a
// block that changed (the file was modified under the verifier) stops verification with an error.
import { sha256 } from '@helm/crypto';
import type { TarEntryRef } from '../tar.js';

const BLOCK = 16 * 1024;
const CACHED_BLOCKS = 32;

export class ListBytes {
  readonly #length: number;
  readonly #read: (start: number, length: number) => Uint8Array;
  readonly #hashes: Uint8Array;
  #pending = new Uint8Array(BLOCK);
  #fill = 0;
  #blocks = 0;
  readonly #cache = new Map<number, Uint8Array>();
  #lastBlock = -1;
  #last: Uint8Array = new Uint8Array(0);

  /** `read(start, length)`: the list's bytes again (a copy, or a view nothing else overwrites). */
  constructor(length: number, read: (start: number, length: number) => Uint8Array) {
    this.#length = length;
    this.#read = read;
    this.#hashes = new Uint8Array(32 * Math.ceil(length / BLOCK));
  }

  /** The list's bytes in order, as they are first read. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(BLOCK - this.#fill, chunk.length - at);
      this.#pending.set(chunk.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === BLOCK) this.#seal();
    }
  }

  /** After the last chunk: the last (short) block. */
  finish(): void {
    if (this.#fill > 0) this.#seal();
    this.#pending = new Uint8Array(0);
    if (this.#blocks * BLOCK < this.#length || (this.#blocks - 1) * BLOCK >= this.#length)
      throw new Error('manifest/entries.json: read length differs from its size');
  }

  #seal(): void {
    if (32 * (this.#blocks + 1) > this.#hashes.length)
      throw new Error('manifest/entries.json: read past its size');
    this.#hashes.set(sha256(this.#pending.subarray(0, this.#fill)), 32 * this.#blocks);
    this.#blocks++;
    this.#fill = 0;
  }

  /** Whether the 64 characters at `offset` are `hex` (64 lowercase hex digits), byte for byte. */
  hexEquals(offset: number, hex: string, from = 0): boolean {
    let block = Math.floor(offset / BLOCK);
    let data = this.#block(block);
    let i = offset - block * BLOCK;
    for (let k = from; k < from + 64; k++, i++) {
      if (i === data.length) {
        data = this.#block(++block);
        i = 0;
      }
      if (data[i] !== hex.charCodeAt(k)) return false;
    }
    return true;
  }

  #block(b: number): Uint8Array {
    if (b === this.#lastBlock) return this.#last;
    let data = this.#cache.get(b);
    if (data === undefined) {
      if (b < 0 || b >= this.#blocks) throw new Error('manifest/entries.json: read outside the list');
      const start = b * BLOCK;
      data = this.#read(start, Math.min(BLOCK, this.#length - start));
      const h = sha256(data);
      for (let i = 0; i < 32; i++)
        if (h[i] !== this.#hashes[32 * b + i])
          throw new Error('manifest/entries.json changed while the pack was verified');
      if (this.#cache.size >= CACHED_BLOCKS) this.#cache.delete(this.#cache.keys().next().value as number);
    } else this.#cache.delete(b);
    // Most recently used last: the first key is the one evicted.
    this.#cache.set(b, data);
    this.#lastBlock = b;
    this.#last = data;
    return data;
  }
}

/** `readRange` over bytes in memory: a view (the caller's bytes are not written to). */
export function rangeOf(bytes: Uint8Array, e: TarEntryRef, start: number, length: number): Uint8Array {
  if (start < 0 || length < 0 || start + length > e.size) throw new Error('read outside the entry');
  return bytes.subarray(e.offset + start, e.offset + start + length);
}
