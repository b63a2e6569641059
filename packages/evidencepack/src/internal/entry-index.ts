// The archive's entries and the signed entry list, joined as the list is read: per archive entry,
// whether it is listed, whether its listed size is its archive size, and its listed SHA-256 —
// where its digits are in the list (4 bytes; list-bytes.ts reads them again) when the list was
// streamed, else its 32 bytes — and nothing per list item once it is joined
// (docs/spec/evidencepack.md §5.2 "Memory").
import { fromHex } from '@helm/crypto';
import type { EvidencePackEntry } from '../manifest.js';
import type { CompactEntryList } from './entry-list.js';
import type { EntryTable, PackEntryRef } from './entry-table.js';
import type { ListBytes } from './list-bytes.js';

/** The compact form of a validated entry list of objects. */
export function compactEntryList(list: readonly EvidencePackEntry[], root: Uint8Array): CompactEntryList {
  const digests = new Uint8Array(32 * list.length);
  for (let i = 0; i < list.length; i++)
    digests.set(fromHex((list[i] as EvidencePackEntry).sha256.slice('sha256:'.length)) as Uint8Array, 32 * i);
  return { paths: list.map((e) => e.path), sizes: list.map((e) => e.size), digests, root };
}

/**
 * Joins the list, item by item in list order, with the archive entries (both ascending by path:
 * one forward walk). Records the first problem of the list's order or names instead of throwing,
 * so that the caller reports it only once the list's bytes are known to be the signed ones.
 */
export class EntryJoin {
  readonly #table: EntryTable;
  /** Per archive entry: 0 unlisted, LISTED, or LISTED | SIZE_OK (listed with its archive size). */
  readonly state: Uint8Array;
  /** Listed SHA-256 per archive entry: its 32 bytes, or (streamed list) where its digits start. */
  readonly #digests: Uint8Array | undefined;
  readonly #hexAt: Uint32Array | Float64Array | undefined;
  readonly #list: ListBytes | undefined;
  #a = 0;
  #aPath: string | undefined;
  #count = 0;
  #prev = '';
  problem: string | undefined;
  missing: string | undefined;
  readonly #reserved: readonly string[];

  /**
   * `reserved`: paths the list may not name (the manifest and the list itself). `list`: the
   * streamed list's bytes, read again for the digests (`add` then gets each item's hex offset);
   * without it the digests are kept.
   */
  constructor(
    table: EntryTable,
    reserved: readonly string[] = [],
    list?: { bytes: ListBytes; size: number },
  ) {
    this.#table = table;
    this.#reserved = reserved;
    this.state = new Uint8Array(table.length);
    this.#list = list?.bytes;
    if (list === undefined) this.#digests = new Uint8Array(32 * table.length);
    else
      this.#hexAt = list.size <= 0xffffffff ? new Uint32Array(table.length) : new Float64Array(table.length);
  }

  get count(): number {
    return this.#count;
  }

  add(path: string, size: number, sha256: Uint8Array, hexOffset?: number): void {
    this.#count++;
    if (this.problem !== undefined) return;
    if (path <= this.#prev) {
      this.problem = 'entries not sorted and unique';
      return;
    }
    if (this.#reserved.includes(path)) {
      this.problem = `the entry list names ${path}`;
      return;
    }
    this.#prev = path;
    const n = this.#table.length;
    while (this.#a < n) {
      this.#aPath ??= this.#table.pathAt(this.#a);
      if (this.#aPath >= path) break;
      this.#a++;
      this.#aPath = undefined;
    }
    if (this.#a < n && this.#aPath === path) {
      const a = this.#a++;
      this.#aPath = undefined;
      // The listed size is kept only as "equal to the archive's": an entry is read with exactly its
      // archive size, so that is all `matches` compares.
      this.state[a] = LISTED | (size === this.#table.sizeAt(a) ? SIZE_OK : 0);
      if (this.#hexAt !== undefined) this.#hexAt[a] = hexOffset as number;
      else this.#digests?.set(sha256.subarray(0, 32), 32 * a);
    } else this.missing ??= path;
  }

  /** Whether the listed SHA-256 of archive entry `index` (listed) is `sha256` (`sha256:<hex>`). */
  listedAs(index: number, sha256: string): boolean {
    if (sha256.length !== PREFIX.length + 64 || !sha256.startsWith(PREFIX)) return false;
    if (this.#list !== undefined && this.#hexAt !== undefined)
      return this.#list.hexEquals(this.#hexAt[index] as number, sha256, PREFIX.length);
    // Compared digit by digit against the listed bytes (no per-entry buffer: this runs for every
    // entry, twice for the ones read again).
    const d = this.#digests as Uint8Array;
    for (let i = 0; i < 32; i++) {
      const hi = hexDigit(sha256.charCodeAt(PREFIX.length + 2 * i));
      const lo = hexDigit(sha256.charCodeAt(PREFIX.length + 2 * i + 1));
      if (hi < 0 || lo < 0 || hi * 16 + lo !== d[32 * index + i]) return false;
    }
    return true;
  }
}

/**
 * Entries in archive order (strictly ascending paths; entry paths are ASCII, where UTF-16 order is
 * byte order) with each one's listed size and SHA-256, when it is listed.
 */
export class EntryIndex {
  readonly entries: EntryTable;
  readonly #join: EntryJoin | undefined;
  /** The first listed entry (in list order) missing from the archive. */
  readonly missing: string | undefined;

  /** `join`: the validated entry list joined with `entries` (none before the list is read). */
  constructor(entries: EntryTable, join?: EntryJoin) {
    this.entries = entries;
    this.#join = join;
    this.missing = join?.missing;
  }

  /** Position of `path` in the archive, or -1. */
  indexOf(path: string): number {
    return this.entries.indexOf(path);
  }

  get(path: string): PackEntryRef | undefined {
    const i = this.indexOf(path);
    return i === -1 ? undefined : this.entries.at(i);
  }

  has(path: string): boolean {
    return this.indexOf(path) !== -1;
  }

  isListed(index: number): boolean {
    return ((this.#join?.state[index] ?? 0) & LISTED) !== 0;
  }

  /**
   * Whether the entry at `index` is listed with exactly this size and SHA-256 (`sha256:<hex>`);
   * `size` is the length of bytes read for the entry, which is its archive size.
   */
  matches(index: number, size: number, sha256: string): boolean {
    const join = this.#join;
    if (join === undefined || join.state[index] !== (LISTED | SIZE_OK)) return false;
    if (size !== this.entries.sizeAt(index)) return false;
    return join.listedAs(index, sha256);
  }
}

const PREFIX = 'sha256:';
const LISTED = 1;
const SIZE_OK = 2;

/** Value of a lowercase hex digit, else -1 (digests are lowercase: DIGEST_PATTERN). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
