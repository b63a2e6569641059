// A map from hash strings to numbers (the ProofGraph passes' "hash → Lamport" of every receipt and
// node validated so far) that keeps a `sha256:<hex>` key as its 32 bytes in one typed array: a
// `Map` keyed by a 33-character string costs ≈ 80 heap bytes per entry, here ≈ 42 bytes (32 key
// bytes, a 4-byte value (8 once one is not a 32-bit unsigned integer) and 4-byte slots at most
// three quarters full). Any other key (never an honest
// pack's) is kept in a Map by string. Keys are placed by a hash keyed with a random seed per map,
// so that a pack's author, who picks its node hashes, cannot make the probes collide (the answers
// do not depend on the seed, only the time does).

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x61 + 10);

export class DigestMap {
  #keys: Uint8Array;
  /** Values: 4 bytes each while all are integers in [0, 2^32) (Lamport values), else 8. */
  #values: Uint32Array | Float64Array;
  /**
   * Open addressing, linear probing: entry number + 1, 0 when free. Length a power of two, at most
   * three quarters full.
   */
  #slots: Uint32Array;
  #n = 0;
  readonly #other = new Map<string, number>();
  readonly #key = new Uint8Array(32);
  readonly #seed = new Uint32Array(4);

  /**
   * `capacity`: the number of digest keys expected (the arrays are made for it at once: growing
   * them by doubling would leave up to half unused and, while copying, both copies alive).
   */
  constructor(capacity = 16) {
    const c = Math.max(16, Math.ceil(capacity));
    this.#keys = new Uint8Array(32 * c);
    this.#values = new Uint32Array(c);
    let slots = 32;
    while (3 * slots < 4 * c) slots *= 2;
    this.#slots = new Uint32Array(slots);
    globalThis.crypto.getRandomValues(this.#seed);
  }

  get size(): number {
    return this.#n + this.#other.size;
  }

  get(hash: string): number | undefined {
    if (!this.#parse(hash)) return this.#other.get(hash);
    const at = this.#find();
    return at < 0 ? undefined : (this.#values[(this.#slots[at] as number) - 1] as number);
  }

  set(hash: string, value: number): void {
    if (!this.#parse(hash)) {
      this.#other.set(hash, value);
      return;
    }
    const at = this.#find();
    if (
      this.#values instanceof Uint32Array &&
      !(Number.isInteger(value) && value >= 0 && value < 2 ** 32 && !Object.is(value, -0))
    )
      this.#values = Float64Array.from(this.#values);
    if (at >= 0) {
      this.#values[(this.#slots[at] as number) - 1] = value;
      return;
    }
    if (this.#n === this.#values.length) this.#growEntries();
    const entry = this.#n++;
    this.#keys.set(this.#key, 32 * entry);
    this.#values[entry] = value;
    if (4 * this.#n > 3 * this.#slots.length) this.#rehash();
    else this.#place(entry);
  }

  /** Parse a digest string into #key; false for any other string. */
  #parse(hash: string): boolean {
    return parseDigest(hash, this.#key);
  }

  /** The slot holding #key, or -1. */
  #find(): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const keys = this.#keys;
    const key = this.#key;
    for (let at = slotHash(this.#seed, key, 0) & mask; ; at = (at + 1) & mask) {
      const e = slots[at] as number;
      if (e === 0) return -1;
      const k = 32 * (e - 1);
      let i = 0;
      while (i < 32 && keys[k + i] === key[i]) i++;
      if (i === 32) return at;
    }
  }

  #place(entry: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let at = slotHash(this.#seed, this.#keys, 32 * entry) & mask;
    while (slots[at] !== 0) at = (at + 1) & mask;
    slots[at] = entry + 1;
  }

  #growEntries(): void {
    const m = this.#values.length * 2;
    const keys = new Uint8Array(32 * m);
    keys.set(this.#keys);
    this.#keys = keys;
    const values = this.#values instanceof Uint32Array ? new Uint32Array(m) : new Float64Array(m);
    values.set(this.#values);
    this.#values = values;
  }

  #rehash(): void {
    this.#slots = new Uint32Array(this.#slots.length * 2);
    for (let e = 0; e < this.#n; e++) this.#place(e);
  }
}

/** Where `hash` (`sha256:<hex>`) is among rows of 32 digest bytes kept elsewhere. */
export interface RowDigests {
  /** The rows' digest bytes, 32 per row. */
  readonly bytes: Uint8Array;
  /** Whether the row holds a digest (other rows are never found). */
  isDigest(row: number): boolean;
}

/**
 * A map from digest strings to the first row holding them, over digest bytes another table owns
 * (the receipts' phase-1 hashes): 4-byte slots at most three quarters full, ≈ 5–11 bytes per row,
 * instead of a DigestMap's copy of every key and value (≈ 41 bytes; #25). Seeded slot hash, as in
 * DigestMap. Built once over `count` rows; the rows' bytes must not change after.
 */
export class RowDigestIndex {
  readonly #rows: RowDigests;
  readonly #slots: Uint32Array;
  readonly #key = new Uint8Array(32);
  readonly #seed = new Uint32Array(4);

  constructor(rows: RowDigests, count: number) {
    this.#rows = rows;
    let slots = 32;
    while (3 * slots < 4 * count) slots *= 2;
    this.#slots = new Uint32Array(slots);
    globalThis.crypto.getRandomValues(this.#seed);
    const mask = slots - 1;
    for (let row = 0; row < count; row++) {
      if (!rows.isDigest(row)) continue;
      // The first row of a digest keeps it (a later equal row is never the answer).
      if (this.#find(rows.bytes, 32 * row) >= 0) continue;
      let at = slotHash(this.#seed, rows.bytes, 32 * row) & mask;
      while (this.#slots[at] !== 0) at = (at + 1) & mask;
      this.#slots[at] = row + 1;
    }
  }

  /** The first row holding `hash`, or -1 (also for any string that is not a digest). */
  rowOf(hash: string): number {
    if (!parseDigest(hash, this.#key)) return -1;
    const at = this.#find(this.#key, 0);
    return at < 0 ? -1 : (this.#slots[at] as number) - 1;
  }

  /** The slot whose row holds the 32 bytes at `from` of `key`, or -1. */
  #find(key: Uint8Array, from: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const bytes = this.#rows.bytes;
    for (let at = slotHash(this.#seed, key, from) & mask; ; at = (at + 1) & mask) {
      const e = slots[at] as number;
      if (e === 0) return -1;
      const k = 32 * (e - 1);
      let i = 0;
      while (i < 32 && bytes[k + i] === key[from + i]) i++;
      if (i === 32) return at;
    }
  }
}

/** Parse a `sha256:<64 lowercase hex>` string into `into`; false for any other string. */
function parseDigest(hash: string, into: Uint8Array): boolean {
  if (!DIGEST.test(hash)) return false;
  for (let i = 0; i < 32; i++)
    into[i] = hexValue(hash.charCodeAt(7 + 2 * i)) * 16 + hexValue(hash.charCodeAt(8 + 2 * i));
  return true;
}

/** Keyed mix of the first 16 bytes at `at` of `bytes` (a slot hash, not a digest). */
function slotHash(s: Uint32Array, bytes: Uint8Array, at: number): number {
  let h = s[0] as number;
  for (let w = 0; w < 4; w++) {
    const b = at + 4 * w;
    const word =
      ((bytes[b] as number) |
        ((bytes[b + 1] as number) << 8) |
        ((bytes[b + 2] as number) << 16) |
        ((bytes[b + 3] as number) << 24)) ^
      (s[w] as number);
    h = Math.imul(h ^ word, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca77);
    h ^= h >>> 13;
  }
  return h >>> 0;
}
