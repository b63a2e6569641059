// The archive's entries and the signed entry list, joined once and kept compactly: the verifier of
// a 100,000-receipt pack holds 400,000 of these, so no per-entry objects or maps beyond the scanned
// entries themselves (docs/spec/evidencepack.md §5.2 "Memory").

import { fromHex } from '@helm/crypto';
import type { EvidencePackEntry } from '../manifest.js';
import type { TarEntryRef } from '../tar.js';
import type { CompactEntryList } from './entry-list.js';

/** The compact form of a validated entry list of objects. */
export function compactEntryList(list: readonly EvidencePackEntry[], root: Uint8Array): CompactEntryList {
  const digests = new Uint8Array(32 * list.length);
  for (let i = 0; i < list.length; i++)
    digests.set(fromHex((list[i] as EvidencePackEntry).sha256.slice('sha256:'.length)) as Uint8Array, 32 * i);
  return { paths: list.map((e) => e.path), sizes: list.map((e) => e.size), digests, root };
}

/** No entries listed (before the list is read). */
export const NO_ENTRIES: CompactEntryList = {
  paths: [],
  sizes: [],
  digests: new Uint8Array(0),
  root: new Uint8Array(0),
};

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Entries in archive order (strictly ascending paths; entry paths are ASCII, where UTF-16 order is
 * byte order) with each one's listed size and SHA-256, when it is listed.
 */
export class EntryIndex {
  readonly entries: readonly TarEntryRef[];
  /** Per archive entry: its position in the list, or -1 when it is not listed. */
  readonly #listed: Int32Array;
  readonly #sizes: Float64Array;
  readonly #digests: Uint8Array;
  /** The first listed entry (in list order) missing from the archive. */
  readonly missing: string | undefined;

  /** `list` is the validated entry list: strictly ascending paths. */
  constructor(entries: readonly TarEntryRef[], list: CompactEntryList) {
    this.entries = entries;
    this.#listed = new Int32Array(entries.length).fill(-1);
    this.#sizes = Float64Array.from(list.sizes);
    this.#digests = list.digests.slice();
    let missing: string | undefined;
    let a = 0;
    for (let l = 0; l < list.paths.length; l++) {
      const path = list.paths[l] as string;
      while (a < entries.length && byPath((entries[a] as TarEntryRef).path, path) < 0) a++;
      if (a < entries.length && (entries[a] as TarEntryRef).path === path) this.#listed[a++] = l;
      else missing ??= path;
    }
    this.missing = missing;
  }

  /** Position of `path` in the archive, or -1. */
  indexOf(path: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = byPath((this.entries[mid] as TarEntryRef).path, path);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  get(path: string): TarEntryRef | undefined {
    const i = this.indexOf(path);
    return i === -1 ? undefined : this.entries[i];
  }

  has(path: string): boolean {
    return this.indexOf(path) !== -1;
  }

  isListed(index: number): boolean {
    return (this.#listed[index] ?? -1) !== -1;
  }

  /** Whether the entry at `index` is listed with exactly this size and SHA-256 (`sha256:<hex>`). */
  matches(index: number, size: number, sha256: string): boolean {
    const l = this.#listed[index] ?? -1;
    if (l === -1 || this.#sizes[l] !== size) return false;
    // Compared digit by digit against the listed bytes (no per-entry buffer: this runs for every
    // entry, twice for the ones read again).
    if (sha256.length !== PREFIX.length + 64 || !sha256.startsWith(PREFIX)) return false;
    const d = this.#digests;
    for (let i = 0; i < 32; i++) {
      const hi = hexDigit(sha256.charCodeAt(PREFIX.length + 2 * i));
      const lo = hexDigit(sha256.charCodeAt(PREFIX.length + 2 * i + 1));
      if (hi < 0 || lo < 0 || hi * 16 + lo !== d[32 * l + i]) return false;
    }
    return true;
  }
}

const PREFIX = 'sha256:';

/** Value of a lowercase hex digit, else -1 (digests are lowercase hex: DIGEST_PATTERN). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
