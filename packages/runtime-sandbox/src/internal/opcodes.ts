// Instruction decoder for the instrumenter. It knows exactly the instruction set the sandbox
// accepts — MVP, sign-extension, non-trapping float-to-int, bulk memory, reference types,
// multi-value and tail calls — and rejects everything else (SIMD, threads, exceptions, GC,
// multi-memory, memory64): an opcode it does not know is an invalid module (fail closed).
import { type ByteReader, ModuleFormatError } from './wasm-binary.js';

export const OP_UNREACHABLE = 0x00;
export const OP_BLOCK = 0x02;
export const OP_LOOP = 0x03;
export const OP_IF = 0x04;
export const OP_ELSE = 0x05;
export const OP_END = 0x0b;
export const OP_BR = 0x0c;
export const OP_BR_IF = 0x0d;
export const OP_BR_TABLE = 0x0e;
export const OP_RETURN = 0x0f;
export const OP_CALL = 0x10;
export const OP_CALL_INDIRECT = 0x11;
export const OP_RETURN_CALL = 0x12;
export const OP_RETURN_CALL_INDIRECT = 0x13;
export const OP_LOCAL_GET = 0x20;
export const OP_LOCAL_SET = 0x21;
export const OP_LOCAL_TEE = 0x22;
export const OP_GLOBAL_GET = 0x23;
export const OP_GLOBAL_SET = 0x24;
export const OP_MEMORY_GROW = 0x40;
export const OP_I32_CONST = 0x41;
export const OP_I64_CONST = 0x42;
export const OP_I32_EQ = 0x46;
export const OP_I64_LT_S = 0x53;
export const OP_I64_SUB = 0x7d;
export const OP_TABLE_GET = 0x25;
export const OP_TABLE_SET = 0x26;
export const OP_MEMORY_SIZE = 0x3f;
export const OP_SELECT = 0x1b;
export const OP_I64_ADD = 0x7c;
export const OP_I64_LE_U = 0x58;
export const OP_I64_SHL = 0x86;
export const OP_I64_SHR_U = 0x88;
export const OP_I64_EXTEND_I32_U = 0xad;
export const OP_F32_CONST = 0x43;
export const OP_F64_CONST = 0x44;
export const OP_F32_EQ = 0x5b;
export const OP_F64_EQ = 0x61;
// 0xfc-prefixed instructions as readInstruction returns them (0xfc00 | subopcode).
export const OP_MEMORY_INIT = 0xfc08;
export const OP_MEMORY_COPY = 0xfc0a;
export const OP_MEMORY_FILL = 0xfc0b;
export const OP_TABLE_INIT = 0xfc0c;
export const OP_TABLE_COPY = 0xfc0e;
export const OP_TABLE_GROW = 0xfc0f;
export const OP_TABLE_SIZE = 0xfc10;
export const OP_TABLE_FILL = 0xfc11;

/**
 * The immediate of the last instruction readInstruction decoded that the instrumenter needs:
 * the function index of `call`/`return_call`, the label depth of `br`/`br_if`, the largest label
 * depth of `br_table`, the table index of `table.get/set/grow/size/fill/init` and the destination
 * table of `table.copy`. Undefined for other instructions.
 */
export const IMM = { value: 0 };

export const FUNCREF = 0x70;
export const EXTERNREF = 0x6f;
export const OP_REF_NULL = 0xd0;
export const OP_REF_FUNC = 0xd2;

/** A reference type: funcref or externref (the only ones the sandbox accepts). */
export function readRefType(r: ByteReader, what: string): number {
  const t = r.u8();
  if (t !== FUNCREF && t !== EXTERNREF) {
    throw new ModuleFormatError(`unsupported ${what} type 0x${t.toString(16)} (only funcref and externref)`);
  }
  return t;
}

/**
 * One constant expression, read by the instrumenter and the gas-import rewrite alike: exactly one
 * of `i32/i64/f32/f64.const`, `ref.null`, `ref.func`, `global.get`, then `end` (extended constant
 * expressions are not supported). Returns the opcode; the index of `ref.func` / `global.get` is
 * left in IMM.value.
 */
export function readConstExpr(r: ByteReader): number {
  const op = r.u8();
  switch (op) {
    case OP_I32_CONST:
      r.skipSigned(32);
      break;
    case OP_I64_CONST:
      r.skipSigned(64);
      break;
    case OP_F32_CONST:
      r.skip(4);
      break;
    case OP_F64_CONST:
      r.skip(8);
      break;
    case OP_REF_NULL:
      readRefType(r, 'reference');
      break;
    case OP_REF_FUNC:
    case OP_GLOBAL_GET:
      IMM.value = r.u32();
      break;
    default:
      throw new ModuleFormatError(`unsupported instruction 0x${op.toString(16)} in a constant expression`);
  }
  if (r.u8() !== OP_END) throw new ModuleFormatError('extended constant expressions are not supported');
  return op;
}

/**
 * Float instructions whose result may be a NaN with an engine-chosen bit pattern (arithmetic,
 * rounding, sqrt, min/max, promote/demote): the NaN-canonicalization points. `abs`, `neg`,
 * `copysign`, loads, constants and reinterpretations are bit-exact and are not listed.
 * Value: 32 or 64 (the result width).
 */
export function nanResultWidth(op: number): 0 | 32 | 64 {
  if ((op >= 0x8d && op <= 0x97) || op === 0xb6) return 32;
  if ((op >= 0x9b && op <= 0xa5) || op === 0xbb) return 64;
  return 0;
}

/** Value types accepted in block types, locals, globals and `select t`. */
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f]);

function readValType(r: ByteReader): void {
  const t = r.u8();
  if (!VALTYPES.has(t)) throw new ModuleFormatError(`unsupported value type 0x${t.toString(16)}`);
}

function readBlockType(r: ByteReader): void {
  const first = r.bytes[r.pos];
  if (first === 0x40) {
    r.pos++;
    return;
  }
  if (first !== undefined && VALTYPES.has(first)) {
    r.pos++;
    return;
  }
  if (r.s33() < 0) throw new ModuleFormatError('unsupported block type');
}

function readMemArg(r: ByteReader): void {
  const align = r.u32();
  // Bit 6 of the alignment field selects multi-memory (a memory index follows): not supported.
  if (align >= 64) throw new ModuleFormatError('multi-memory is not supported');
  r.u32();
}

function readZeroByte(r: ByteReader): void {
  if (r.u8() !== 0) throw new ModuleFormatError('only memory 0 is supported');
}

/**
 * Reads one instruction (opcode and immediates) and returns its opcode; `0xfc` prefixed
 * instructions are returned as `0xfc00 | subopcode`. Throws ModuleFormatError on anything unknown.
 */
export function readInstruction(r: ByteReader): number {
  // Fast path for the common shapes: no immediate, or one LEB immediate of one or two bytes (a
  // two-byte LEB is in range for every immediate kind, signed or not).
  const bytes = r.bytes;
  const pos = r.pos;
  if (pos + 1 < r.end) {
    const op = bytes[pos] as number;
    const fast = FAST[op] as number;
    if (fast === FAST_NONE) {
      r.pos = pos + 1;
      return op;
    }
    if (fast !== 0) {
      const imm = bytes[pos + 1] as number;
      if (imm < 0x80) {
        if (fast === FAST_IMM) IMM.value = imm;
        r.pos = pos + 2;
        return op;
      }
      const imm2 = pos + 2 < r.end ? (bytes[pos + 2] as number) : 0x80;
      if (imm2 < 0x80) {
        if (fast === FAST_IMM) IMM.value = (imm & 0x7f) | (imm2 << 7);
        r.pos = pos + 3;
        return op;
      }
    }
  }
  return readInstructionSlow(r);
}

const FAST_NONE = 1; // no immediate
const FAST_SKIP = 2; // one LEB immediate the instrumenter does not need
const FAST_IMM = 3; // one LEB immediate recorded in IMM
const FAST = new Uint8Array(256);
for (let op = 0x45; op <= 0xc4; op++) FAST[op] = FAST_NONE;
for (const op of [0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1]) FAST[op] = FAST_NONE;
for (const op of [0x20, 0x21, 0x22, 0x23, 0x24, 0x41, 0x42, 0xd2]) FAST[op] = FAST_SKIP;
for (const op of [0x0c, 0x0d, 0x10, 0x12, 0x25, 0x26]) FAST[op] = FAST_IMM;

// Longer than ~80 lines on purpose: one flat switch over the accepted opcodes, so the decoder's
// whole instruction set (and what it rejects) reads in one place.
function readInstructionSlow(r: ByteReader): number {
  const op = r.u8();
  if (op >= 0x45 && op <= 0xc4) return op; // numeric instructions without immediates
  if (op >= 0x28 && op <= 0x3e) {
    readMemArg(r);
    return op;
  }
  switch (op) {
    case 0x00: // unreachable
    case 0x01: // nop
    case 0x05: // else
    case 0x0b: // end
    case 0x0f: // return
    case 0x1a: // drop
    case 0x1b: // select
    case 0xd1: // ref.is_null
      return op;
    case 0x02:
    case 0x03:
    case 0x04:
      readBlockType(r);
      return op;
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x25: // table.get
    case 0x26: // table.set
      IMM.value = r.u32();
      return op;
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0xd2: // ref.func
      r.u32();
      return op;
    case 0x0e: {
      const n = r.u32();
      let max = 0;
      for (let i = 0; i <= n; i++) {
        const depth = r.u32();
        if (depth > max) max = depth;
      }
      IMM.value = max;
      return op;
    }
    case 0x11: // call_indirect typeidx tableidx
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      return op;
    case 0x1c: {
      const n = r.u32();
      for (let i = 0; i < n; i++) readValType(r);
      return op;
    }
    case 0x3f: // memory.size
    case 0x40: // memory.grow
      readZeroByte(r);
      return op;
    case 0x41:
      r.skipSigned(32);
      return op;
    case 0x42:
      r.skipSigned(64);
      return op;
    case 0x43:
      r.skip(4);
      return op;
    case 0x44:
      r.skip(8);
      return op;
    case 0xd0: {
      const t = r.u8();
      if (t !== 0x70 && t !== 0x6f) throw new ModuleFormatError('unsupported reference type');
      return op;
    }
    case 0xfc:
      return readPrefixedFc(r);
    default:
      throw new ModuleFormatError(`unsupported opcode 0x${op.toString(16)}`);
  }
}

function readPrefixedFc(r: ByteReader): number {
  const sub = r.u32();
  switch (sub) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7: // i32/i64.trunc_sat_f32/f64_s/u
      break;
    case 8: // memory.init dataidx 0x00
      r.u32();
      readZeroByte(r);
      break;
    case 9: // data.drop
    case 13: // elem.drop
      r.u32();
      break;
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      IMM.value = r.u32();
      break;
    case 10: // memory.copy 0x00 0x00
      readZeroByte(r);
      readZeroByte(r);
      break;
    case 11: // memory.fill 0x00
      readZeroByte(r);
      break;
    case 12: // table.init elemidx tableidx
      r.u32();
      IMM.value = r.u32();
      break;
    case 14: // table.copy dst src
      IMM.value = r.u32();
      r.u32();
      break;
    default:
      throw new ModuleFormatError(`unsupported opcode 0xfc ${sub}`);
  }
  return 0xfc00 | sub;
}
