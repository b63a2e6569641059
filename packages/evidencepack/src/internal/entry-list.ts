// The entry list `manifest/entries.json` of a big pack, read without materializing it: a pack of
// 1,000,000 receipts lists 4,000,000 entries (about 520 MB of JCS), and neither those bytes nor
// the list parsed into objects may be held at once. When the bytes are exactly the canonical form
// of a list of the right shape — `[{"path":"…","sha256":"sha256:<64 hex>","size":<n>},…]`, each
// path matching the entry-path pattern — they are scanned item by item as they are read, in
// chunks (EntryListScanner), and each item is handed to the caller; anything else goes through
// the general path (JSON.parse, JCS, schema), which gives every problem its message. A list this
// scan accepts is one the general path accepts with the same items, so the two agree.
import { EVIDENCEPACK_PATH_PATTERN } from '../manifest.js';
import { ListRoot } from './list-root.js';

/** An entry list, compactly: paths, sizes and raw SHA-256 digests (32 bytes each). */
export interface CompactEntryList {
  readonly paths: readonly string[];
  readonly sizes: ArrayLike<number>;
  readonly digests: Uint8Array;
  /** RFC 9162 root of the items' JCS (entriesRoot). */
  readonly root: Uint8Array;
}

/**
 * One scanned item: its path, size and SHA-256 (a view valid during the call), and where the
 * SHA-256's 64 hex digits start in the list's bytes.
 */
export type EntryListItem = (path: string, size: number, sha256: Uint8Array, hexOffset: number) => void;

const PATH = new RegExp(EVIDENCEPACK_PATH_PATTERN);
const enc = new TextEncoder();
/**
 * Paths are decoded with this only after every byte was checked to be printable ASCII (0x21–0x7e),
 * where windows-1252 ("latin1" in the Encoding standard) is ASCII. Spreading the bytes into
 * String.fromCharCode cost ~1.3 µs per path, a few percent of verifying a big pack (#16).
 */
const ascii = new TextDecoder('latin1');
const OPEN = enc.encode('{"path":"');
const MID = enc.encode('","sha256":"sha256:');
const SIZE = enc.encode('","size":');
const QUOTE = 0x22;
/**
 * An item is at most 9 + 255 + 19 + 64 + 9 + 16 + 1 = 373 bytes plus its separator: with more
 * than this left in the buffer, a whole item (or a problem) is always in view.
 */
const MAX_ITEM = 512;

/**
 * The canonical-list scan over chunks: `push` every chunk of the entry's bytes in order, then
 * `finish`, which returns the item count and Merkle root when the bytes are exactly JCS of a
 * well-shaped list, else undefined. Holds one chunk and the unscanned tail of the previous one.
 */
export class EntryListScanner {
  readonly #onItem: EntryListItem;
  readonly #frontier = new ListRoot();
  readonly #digest = new Uint8Array(32);
  #buf = new Uint8Array(0);
  #at = 0;
  /** Offset in the list's bytes of #buf[0]. */
  #base = 0;
  #count = 0;
  /** 'open' before `[`, 'items' inside, 'done' after `]`, 'bad' once the bytes are not a list. */
  #state: 'open' | 'items' | 'done' | 'bad' = 'open';

  constructor(onItem: EntryListItem) {
    this.#onItem = onItem;
  }

  push(chunk: Uint8Array): void {
    if (this.#state === 'bad') return;
    const rest = this.#buf.subarray(this.#at);
    this.#base += this.#at;
    const buf = new Uint8Array(rest.length + chunk.length);
    buf.set(rest);
    buf.set(chunk, rest.length);
    this.#buf = buf;
    this.#at = 0;
    this.#scan(false);
  }

  finish(): { count: number; root: Uint8Array } | undefined {
    if (this.#state !== 'bad') this.#scan(true);
    if (this.#state !== 'done' || this.#at !== this.#buf.length) return undefined;
    return { count: this.#count, root: this.#frontier.root() };
  }

  #scan(final: boolean): void {
    const data = this.#buf;
    let at = this.#at;
    const expect = (bytes: Uint8Array): boolean => {
      if (at + bytes.length > data.length) return false;
      for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
      at += bytes.length;
      return true;
    };
    const bad = () => {
      this.#state = 'bad';
      this.#buf = new Uint8Array(0);
      this.#at = 0;
    };
    if (this.#state === 'open') {
      if (data.length - at < 2 && !final) return;
      if (data[at++] !== 0x5b) {
        bad();
        return;
      } // [
      if (data[at] === 0x5d) {
        this.#at = at + 1;
        this.#state = 'done';
        return;
      }
      this.#state = 'items';
    }
    while (this.#state === 'items' && (final || data.length - at > MAX_ITEM)) {
      const start = at;
      if (!expect(OPEN)) {
        bad();
        return;
      }
      const pathStart = at;
      while (at < data.length && data[at] !== QUOTE) {
        const c = data[at] as number;
        // The path alphabet (ASCII, nothing JCS escapes); the pattern is checked below.
        if (c < 0x21 || c > 0x7e || c === 0x5c) {
          bad();
          return;
        }
        at++;
      }
      if (at - pathStart > 255) {
        bad();
        return;
      }
      const path = ascii.decode(data.subarray(pathStart, at));
      if (!PATH.test(path)) {
        bad();
        return;
      }
      if (!expect(MID)) {
        bad();
        return;
      }
      const hexStart = at;
      for (let i = 0; i < 32; i++) {
        const hi = hexValue(data[at]);
        const lo = hexValue(data[at + 1]);
        if (hi < 0 || lo < 0) {
          bad();
          return;
        }
        this.#digest[i] = hi * 16 + lo;
        at += 2;
      }
      if (!expect(SIZE)) {
        bad();
        return;
      }
      const sizeStart = at;
      while (at < data.length && (data[at] as number) >= 0x30 && (data[at] as number) <= 0x39) at++;
      const digits = at - sizeStart;
      if (digits === 0 || digits > 16 || (digits > 1 && data[sizeStart] === 0x30)) {
        bad();
        return;
      }
      // Up to 15 digits the sum is exact (< 2^53); 16 digits go through Number() as written.
      let size = 0;
      if (digits <= 15) for (let i = sizeStart; i < at; i++) size = size * 10 + ((data[i] as number) - 0x30);
      else size = Number(ascii.decode(data.subarray(sizeStart, at)));
      if (!Number.isSafeInteger(size)) {
        bad();
        return;
      }
      if (data[at++] !== 0x7d) {
        bad();
        return;
      } // }
      this.#frontier.append(data.subarray(start, at));
      this.#count++;
      this.#onItem(path, size, this.#digest, this.#base + hexStart);
      const next = data[at++];
      if (next === 0x2c) continue; // ,
      if (next === 0x5d) {
        this.#state = 'done'; // ]
        break;
      }
      bad();
      return;
    }
    this.#at = at;
  }
}

/** The list when `data` is exactly JCS of a well-shaped entry list; undefined otherwise. */
export function scanCanonicalEntryList(data: Uint8Array): CompactEntryList | undefined {
  const paths: string[] = [];
  const sizes: number[] = [];
  const digests: number[] = [];
  const scanner = new EntryListScanner((path, size, sha256) => {
    paths.push(path);
    sizes.push(size);
    digests.push(...sha256);
  });
  scanner.push(data);
  const r = scanner.finish();
  return r === undefined ? undefined : { paths, sizes, digests: Uint8Array.from(digests), root: r.root };
}

/** Lowercase hex digit value, else -1 (JCS digests are lowercase: DIGEST_PATTERN). */
function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
