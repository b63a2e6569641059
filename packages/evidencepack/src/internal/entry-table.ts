// The scanned archive entries, column by column: a 1,000,000-receipt pack has 4,000,000 entries,
// and one `{path, offset, size}` object per entry (with its path string) cost about 130 bytes each
// on the heap — the largest per-receipt term of the verifier's memory. Here an entry costs 10 bytes
// (kind 1, number 5, size 4) plus 32 for the digest in its name, if any. Its digest's place is
// counted from the kinds before it, and its offset follows from the entry before it in a strict
// archive: only every 64th entry's offset and digest place, and any other offset, are kept. The
// paths the writer produces (`receipts/<12 digits>.json`, `decisions/<64 hex>.json`,
// `proofgraph/nodes/<12 digits>-<64 hex>.json`, …) are stored as their parts and rebuilt exactly
// on demand; any other path is kept as its string. Rebuilding is exact: the parts are fixed-width
// decimal and lowercase hex, so `pathAt(i)` is the scanned path byte for byte.
import type { TarEntryRef } from '../tar.js';
import { digestText } from './receipt-infos.js';

/** An entry as the verifier reads it: its archive position too. */
export interface PackEntryRef extends TarEntryRef {
  readonly index: number;
}

/** Path templates: [prefix, has a 12-digit number, has a 64-hex digest, suffix]. Kind = index + 1. */
const TEMPLATES: readonly (readonly [string, boolean, boolean, RegExp])[] = [
  ['receipts/', true, false, /^receipts\/([0-9]{12})\.json$/],
  ['requests/', true, false, /^requests\/([0-9]{12})\.json$/],
  ['condensed/', true, false, /^condensed\/([0-9]{12})\.json$/],
  ['decisions/', false, true, /^decisions\/([0-9a-f]{64})\.json$/],
  ['proofgraph/nodes/', true, true, /^proofgraph\/nodes\/([0-9]{12})-([0-9a-f]{64})\.json$/],
];
const OTHER = 0;
/** By kind: whether its names carry a digest. */
const HAS_HEX: readonly boolean[] = [false, ...TEMPLATES.map((t) => t[2])];

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x61 + 10;
}

/** Kind, number and digest hex of a path (kind OTHER: none). */
function partsOf(path: string): { kind: number; num: number; hex: string | undefined } {
  for (let k = 0; k < TEMPLATES.length; k++) {
    const [prefix, hasNum, hasHex, pattern] = TEMPLATES[k] as (typeof TEMPLATES)[number];
    if (!path.startsWith(prefix)) continue;
    const m = pattern.exec(path);
    if (!m) return { kind: OTHER, num: 0, hex: undefined };
    return {
      kind: k + 1,
      num: hasNum ? Number(m[1]) : 0,
      hex: hasHex ? (hasNum ? m[2] : m[1]) : undefined,
    };
  }
  return { kind: OTHER, num: 0, hex: undefined };
}

/** Tar block size: an entry's data follows its 512-byte header and is padded to a block. */
const BLOCK = 512;
/** Every CHECKPOINT-th entry's offset is kept; the others are computed from the one before. */
const CHECKPOINT = 64;
const TWO_32 = 2 ** 32;

export class EntryTable {
  #n = 0;
  #kind = new Uint8Array(16);
  /** The name's number (< 10^12 < 2^40): low 32 bits and the 8 above. */
  #numLow = new Uint32Array(16);
  #numHigh = new Uint8Array(16);
  /**
   * Per 64 entries: how many entries before the first of them have a digest in their name. An
   * entry's digest is the next slot of #digests after those before it (counted from the kinds).
   */
  #slotCheckpoints = new Int32Array(1);
  /** Offsets of entries 0, 64, 128, …; any other offset not where a strict archive puts it. */
  #checkpoints = new Float64Array(1);
  readonly #offsets = new Map<number, number>();
  /** Sizes below 2^32 (any other in #sizes). */
  #size = new Uint32Array(16);
  readonly #sizes = new Map<number, number>();
  #lastOffset = 0;
  #lastSize = 0;
  #digests = new Uint8Array(32 * 16);
  #slots = 0;
  readonly #other = new Map<number, string>();
  /** Per kind: [first, end) when its entries are contiguous, else undefined (found by string). */
  readonly #ranges = new Map<number, readonly [number, number] | undefined>();

  get length(): number {
    return this.#n;
  }

  /** Append a scanned entry (archive order). */
  push(path: string, offset: number, size: number): void {
    const i = this.#n;
    if (i >= this.#kind.length) this.#grow();
    const { kind, num, hex } = partsOf(path);
    this.#kind[i] = kind;
    this.#numLow[i] = num % TWO_32;
    this.#numHigh[i] = Math.floor(num / TWO_32);
    if (i % CHECKPOINT === 0) {
      const k = i / CHECKPOINT;
      if (k >= this.#checkpoints.length) {
        const c = new Float64Array(Math.max(2 * this.#checkpoints.length, k + 1));
        c.set(this.#checkpoints);
        this.#checkpoints = c;
      }
      this.#checkpoints[k] = offset;
    } else if (offset !== this.#lastOffset + BLOCK + Math.ceil(this.#lastSize / BLOCK) * BLOCK)
      this.#offsets.set(i, offset);
    this.#lastOffset = offset;
    this.#lastSize = size;
    if (size < TWO_32) this.#size[i] = size;
    else this.#sizes.set(i, size);
    if (i % CHECKPOINT === 0) {
      const k = i / CHECKPOINT;
      if (k >= this.#slotCheckpoints.length) {
        const c = new Int32Array(Math.max(2 * this.#slotCheckpoints.length, k + 1));
        c.set(this.#slotCheckpoints);
        this.#slotCheckpoints = c;
      }
      this.#slotCheckpoints[k] = this.#slots;
    }
    if (kind === OTHER) this.#other.set(i, path);
    if (hex !== undefined) {
      if (32 * (this.#slots + 1) > this.#digests.length) {
        const d = new Uint8Array(Math.max(32 * 16, this.#digests.length * 2));
        d.set(this.#digests);
        this.#digests = d;
      }
      const at = 32 * this.#slots;
      for (let b = 0; b < 32; b++)
        this.#digests[at + b] = hexValue(hex.charCodeAt(2 * b)) * 16 + hexValue(hex.charCodeAt(2 * b + 1));
      this.#slots++;
    }
    this.#n++;
    this.#ranges.clear();
  }

  /** Drop the spare capacity of the growable columns (once the scan has ended). */
  trim(): void {
    const n = this.#n;
    this.#kind = this.#kind.slice(0, n);
    this.#numLow = this.#numLow.slice(0, n);
    this.#numHigh = this.#numHigh.slice(0, n);
    this.#slotCheckpoints = this.#slotCheckpoints.slice(0, Math.ceil(n / CHECKPOINT));
    this.#checkpoints = this.#checkpoints.slice(0, Math.ceil(n / CHECKPOINT));
    this.#size = this.#size.slice(0, n);
    this.#digests = this.#digests.slice(0, 32 * this.#slots);
  }

  #grow(): void {
    const m = Math.max(16, this.#kind.length * 2);
    const grow = <T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(m);
      b.set(a as never);
      return b;
    };
    this.#kind = grow(this.#kind, (n) => new Uint8Array(n));
    this.#numLow = grow(this.#numLow, (n) => new Uint32Array(n));
    this.#numHigh = grow(this.#numHigh, (n) => new Uint8Array(n));
    this.#size = grow(this.#size, (n) => new Uint32Array(n));
  }

  /** Entry i's slot in #digests (its kind has a digest in its name). */
  #slotAt(i: number): number {
    const first = i - (i % CHECKPOINT);
    let slot = this.#slotCheckpoints[first / CHECKPOINT] as number;
    for (let j = first; j < i; j++) if (HAS_HEX[this.#kind[j] as number]) slot++;
    return slot;
  }

  #numAt(i: number): number {
    return (this.#numHigh[i] as number) * TWO_32 + (this.#numLow[i] as number);
  }

  /** Entry i's offset: from the checkpoint before it, entry by entry (at most 63 steps). */
  offsetAt(i: number): number {
    const first = i - (i % CHECKPOINT);
    let offset = this.#checkpoints[first / CHECKPOINT] as number;
    for (let j = first + 1; j <= i; j++)
      offset = this.#offsets.get(j) ?? offset + BLOCK + Math.ceil(this.sizeAt(j - 1) / BLOCK) * BLOCK;
    return offset;
  }

  pathAt(i: number): string {
    const kind = this.#kind[i] as number;
    if (kind === OTHER) return this.#other.get(i) as string;
    const [prefix, hasNum, hasHex] = TEMPLATES[kind - 1] as (typeof TEMPLATES)[number];
    let path = prefix;
    if (hasNum) path += String(this.#numAt(i)).padStart(12, '0');
    if (hasNum && hasHex) path += '-';
    // One flat string for the 64 digits (digestText), not a rope of 32 two-digit pieces.
    if (hasHex) path += digestText(this.#digests, 32 * this.#slotAt(i)).slice(7);
    return `${path}.json`;
  }

  sizeAt(i: number): number {
    return this.#sizes.get(i) ?? (this.#size[i] as number);
  }

  at(i: number): PackEntryRef {
    return {
      path: this.pathAt(i),
      offset: this.offsetAt(i),
      size: this.sizeAt(i),
      index: i,
    };
  }

  /** Position of `path`, or -1. */
  indexOf(path: string): number {
    const { kind, num, hex } = partsOf(path);
    const range = kind === OTHER ? undefined : this.#rangeOf(kind);
    if (range === undefined) return this.#indexByString(path);
    // Within one template kind, path order is (number, digest) order: fixed-width decimal digits
    // and fixed-width lowercase hex.
    let lo = range[0];
    let hi = range[1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = this.#compare(mid, num, hex);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** Entry `i` against (num, hex) of the same kind: negative when it sorts first. */
  #compare(i: number, num: number, hex: string | undefined): number {
    const n = this.#numAt(i);
    if (n !== num) return n < num ? -1 : 1;
    if (hex === undefined) return 0;
    const at = 32 * this.#slotAt(i);
    for (let b = 0; b < 32; b++) {
      const v = this.#digests[at + b] as number;
      const w = hexValue(hex.charCodeAt(2 * b)) * 16 + hexValue(hex.charCodeAt(2 * b + 1));
      if (v !== w) return v < w ? -1 : 1;
    }
    return 0;
  }

  /** [first, end) of a kind's entries when they are contiguous (the writer's packs), else undefined. */
  #rangeOf(kind: number): readonly [number, number] | undefined {
    if (this.#ranges.has(kind)) return this.#ranges.get(kind);
    let first = -1;
    let count = 0;
    let last = -1;
    for (let i = 0; i < this.#n; i++)
      if (this.#kind[i] === kind) {
        if (first === -1) first = i;
        last = i;
        count++;
      }
    const range: readonly [number, number] | undefined =
      first === -1 ? [0, 0] : count === last - first + 1 ? [first, last + 1] : undefined;
    this.#ranges.set(kind, range);
    return range;
  }

  #indexByString(path: string): number {
    let lo = 0;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.pathAt(mid);
      if (p === path) return mid;
      if (p < path) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  *[Symbol.iterator](): IterableIterator<PackEntryRef> {
    for (let i = 0; i < this.#n; i++) yield this.at(i);
  }

  /** First position whose path is ≥ `path` (archive order is ascending). */
  lowerBound(path: string): number {
    let lo = 0;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pathAt(mid) < path) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entries whose path starts with `prefix`, in archive order. */
  under(prefix: string): EntryRange {
    const start = this.lowerBound(prefix);
    let lo = start;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pathAt(mid).startsWith(prefix)) lo = mid + 1;
      else hi = mid;
    }
    return new EntryRange(this, start, lo);
  }
}

/** A contiguous run of entries (one folder), materialized one entry at a time. */
export class EntryRange {
  readonly #table: EntryTable;
  readonly start: number;
  readonly end: number;
  constructor(table: EntryTable, start: number, end: number) {
    this.#table = table;
    this.start = start;
    this.end = end;
  }
  get length(): number {
    return this.end - this.start;
  }
  at(k: number): PackEntryRef {
    return this.#table.at(this.start + k);
  }
  pathAt(k: number): string {
    return this.#table.pathAt(this.start + k);
  }
  /** Position in this range of `path`, or -1. */
  indexOf(path: string): number {
    const i = this.#table.indexOf(path);
    return i >= this.start && i < this.end ? i - this.start : -1;
  }
  paths(): string[] {
    const out: string[] = [];
    for (let k = 0; k < this.length; k++) out.push(this.pathAt(k));
    return out;
  }
  *[Symbol.iterator](): IterableIterator<PackEntryRef> {
    for (let k = 0; k < this.length; k++) yield this.at(k);
  }
}
