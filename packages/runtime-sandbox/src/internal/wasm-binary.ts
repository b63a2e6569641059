// Minimal WebAssembly binary reader/writer: LEB128 integers, names, byte vectors. Every read is
// bounds-checked; a read past the end throws a ModuleFormatError (mapped to SANDBOX_INVALID_MODULE).

export class ModuleFormatError extends Error {
  readonly code = 'SANDBOX_INVALID_MODULE' as const;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_ENCODER = new TextEncoder();

export interface Limits {
  min: number;
  max: number | null;
}

/** Table or memory limits: flags 0 (min) or 1 (min, max); shared and 64-bit memories are refused. */
export function readLimits(r: ByteReader, what: 'memory' | 'table'): Limits {
  const flags = r.u8();
  if (flags === 0x00) return { min: r.u32(), max: null };
  if (flags === 0x01) return { min: r.u32(), max: r.u32() };
  if (what === 'memory' && (flags === 0x02 || flags === 0x03)) {
    throw new ModuleFormatError('shared memory is not supported');
  }
  throw new ModuleFormatError(`unsupported ${what} limits flags 0x${flags.toString(16)}`);
}

export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new ModuleFormatError(`${what} at byte ${this.pos}`);
  }

  u8(): number {
    if (this.pos >= this.end) return this.fail('unexpected end');
    return this.bytes[this.pos++] as number;
  }

  /** Reads bytes[start, end) from now on. */
  reset(start: number, end: number): this {
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Unsigned LEB128 of at most 32 bits (one-byte fast path small enough to be inlined). */
  u32(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const first = this.bytes[pos] as number;
      if (first < 0x80) {
        this.pos = pos + 1;
        return first;
      }
    }
    return this.u32Long();
  }

  private u32Long(): number {
    const bytes = this.bytes;
    const end = this.end;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) {
        this.pos = pos;
        return this.fail('unexpected end');
      }
      const b = bytes[pos++] as number;
      if (shift === 28 && b > 0x0f) {
        this.pos = pos;
        return this.fail('u32 LEB128 out of range');
      }
      result += (b & 0x7f) * (1 << shift); // shift ≤ 28: exact
      if ((b & 0x80) === 0) {
        this.pos = pos;
        return result;
      }
    }
  }

  /** Skips a signed LEB128 of at most `bits` bits (the value is never needed by the instrumenter). */
  skipSigned(bits: number): void {
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      if ((this.u8() & 0x80) === 0) return;
    }
    this.fail('signed LEB128 too long');
  }

  /** Signed LEB128 of at most 33 bits (block types), returned as a JS number. */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift >= 35) this.fail('s33 LEB128 too long');
      b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }

  skip(n: number): void {
    if (n > this.end - this.pos) this.fail('unexpected end');
    this.pos += n;
  }

  bytesOf(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, start + n);
  }

  name(): string {
    const len = this.u32();
    const raw = this.bytesOf(len);
    try {
      return UTF8.decode(raw);
    } catch {
      return this.fail('invalid UTF-8 name');
    }
  }
}

/** Bytes of the minimal LEB128 of a size (below 2^35). */
/** Bytes of the unsigned LEB128 of `v` (a uint32). */
export function lebLength(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of the signed LEB128 of the safe integer `v` (what ByteWriter#sNum writes). */
export function sLebLength(v: number): number {
  let n = 1;
  for (let bound = 64; v >= bound || v < -bound; bound *= 128) n++;
  return n;
}

/** An append-only byte buffer (doubling growth), with the LEB128 encodings the instrumenter writes. */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    this.resize(size);
  }

  private resize(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(b: number): this {
    if (this.len === this.buf.length) this.room(1);
    this.buf[this.len++] = b & 0xff;
    return this;
  }

  u32(value: number): this {
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a bigint (i64.const immediates). */
  s64(value: bigint): this {
    let v = value;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) return this.u8(b);
      this.u8(b | 0x80);
    }
  }

  /** Signed LEB128 of a safe integer (same bytes as s64, without bigint arithmetic). */
  sNum(value: number): this {
    // Anything else would never end the loop below and fill memory: a NaN cost comes from a call
    // to a function index out of range, which only a module that skipped validation can have.
    if (!Number.isSafeInteger(value)) throw new RangeError(`sNum: ${value} is not a safe integer`);
    // int32 values (every cost but the largest) with integer shifts; `%` on a double is a libm call
    if ((value | 0) === value) {
      let v = value;
      for (;;) {
        const b = v & 0x7f;
        v >>= 7;
        if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.u8(b);
        this.u8(b | 0x80);
      }
    }
    let v = value;
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = (v - b) / 128;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.u8(b);
      this.u8(b | 0x80);
    }
  }

  /** Signed LEB128 of a 32-bit integer (i32.const immediates). */
  s32(value: number): this {
    return this.sNum(value | 0);
  }

  bytes(data: Uint8Array | readonly number[]): this {
    const n = data.length;
    if (this.len + n > this.buf.length) this.room(n);
    if (data instanceof Uint8Array) return this.range(data, 0, n);
    const buf = this.buf;
    let len = this.len;
    for (let i = 0; i < n; i++) buf[len++] = (data[i] as number) & 0xff;
    this.len = len;
    return this;
  }

  /**
   * Appends src[start, end). Short ranges (most of them: the code between two rewrite points) are
   * copied by a plain loop, small enough to be inlined; TypedArray#set is a builtin call.
   */
  range(src: Uint8Array, start: number, end: number): this {
    const n = end - start;
    const buf = this.buf;
    let len = this.len;
    if (n > 64 || len + n > buf.length) return this.rangeLong(src, start, end);
    for (let i = start; i < end; i++) buf[len++] = src[i] as number;
    this.len = len;
    return this;
  }

  private rangeLong(src: Uint8Array, start: number, end: number): this {
    const n = end - start;
    if (this.len + n > this.buf.length) this.room(n);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
    return this;
  }

  /**
   * For a copy loop that writes the buffer directly: makes room for `n` more bytes and returns the
   * buffer, valid until the next write through another method; the loop writes from `length` on
   * and then calls `setLength`.
   */
  claim(n: number): Uint8Array {
    if (this.len + n > this.buf.length) this.room(n);
    return this.buf;
  }

  /** Ends a `claim`: the content is now the first `length` bytes (within the claimed room). */
  setLength(length: number): void {
    if (length < 0 || length > this.buf.length) throw new RangeError('setLength outside the claimed room');
    this.len = length;
  }

  /**
   * Starts a size-prefixed entry whose size will probably be `expected`: reserves the bytes the
   * size's LEB128 then takes, so that endSized moves nothing when the guess is right. Returns the
   * entry's position for endSized.
   */
  beginSized(expected: number): number {
    const at = this.len;
    const n = lebLength(expected);
    if (this.len + n > this.buf.length) this.room(n);
    this.len += n;
    return at;
  }

  /**
   * Ends the entry begun at `at` (with the same `expected`): writes its size as a minimal LEB128,
   * moving the entry if that takes more or fewer bytes than were reserved. Returns the size.
   */
  endSized(at: number, expected: number): number {
    const reserved = lebLength(expected);
    const size = this.len - at - reserved;
    const n = lebLength(size);
    if (n > reserved && this.len + n - reserved > this.buf.length) this.room(n - reserved);
    const buf = this.buf;
    if (n < reserved && size <= 64)
      for (let i = 0; i < size; i++) buf[at + n + i] = buf[at + reserved + i] as number;
    else if (n !== reserved) buf.copyWithin(at + n, at + reserved, this.len);
    let v = size;
    for (let i = 0; i < n; i++) {
      buf[at + i] = (v & 0x7f) | (i < n - 1 ? 0x80 : 0);
      v >>>= 7;
    }
    this.len += n - reserved;
    return size;
  }

  /** Forgets the content (keeps the allocation unless it is over `keep` bytes). */
  reset(keep = Number.POSITIVE_INFINITY): this {
    this.len = 0;
    if (this.buf.length > keep) this.buf = new Uint8Array(64);
    return this;
  }

  /**
   * Makes room for exactly `n` more bytes (no rounding up): for an output whose size is estimated
   * well, so that `compact` can return it without a copy.
   */
  reserveExact(n: number): this {
    if (this.len + n > this.buf.length) this.resize(this.len + n);
    return this;
  }

  name(text: string): this {
    const raw = UTF8_ENCODER.encode(text);
    this.u32(raw.length);
    return this.bytes(raw);
  }

  /** A view of the content, valid until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** The content without copying when little of the buffer is unused; a copy otherwise. */
  compact(): Uint8Array {
    return this.buf.length - this.len <= this.len >>> 3 ? this.view() : this.toBytes();
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
