// Minimal WebAssembly binary reader/writer: LEB128 integers, names, byte vectors. Every read is
// bounds-checked; a read past the end throws a ModuleFormatError (mapped to SANDBOX_INVALID_MODULE).

export class ModuleFormatError extends Error {
  readonly code = 'SANDBOX_INVALID_MODULE' as const;
}

export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

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
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift === 28 && b > 0x0f) this.fail('u32 LEB128 out of range');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
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
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return this.fail('invalid UTF-8 name');
    }
  }
}

export class ByteWriter {
  private chunks: number[] = [];

  get length(): number {
    return this.chunks.length;
  }

  u8(b: number): this {
    this.chunks.push(b & 0xff);
    return this;
  }

  u32(value: number): this {
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.chunks.push(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a bigint (i64.const immediates). */
  s64(value: bigint): this {
    let v = value;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.chunks.push(b);
        return this;
      }
      this.chunks.push(b | 0x80);
    }
  }

  /** Signed LEB128 of a 32-bit integer (i32.const immediates). */
  s32(value: number): this {
    return this.s64(BigInt(value | 0));
  }

  bytes(data: Uint8Array | readonly number[]): this {
    for (const b of data) this.chunks.push(b);
    return this;
  }

  name(text: string): this {
    const raw = new TextEncoder().encode(text);
    this.u32(raw.length);
    return this.bytes(raw);
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
