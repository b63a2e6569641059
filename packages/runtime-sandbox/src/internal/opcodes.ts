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
export const OP_PREFIX_FC = 0xfc;

/** Value types accepted in block types, locals, globals and `select t`. */
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f]);

export function isValType(b: number): boolean {
  return VALTYPES.has(b);
}

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
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0xd2: // ref.func
      r.u32();
      return op;
    case 0x0e: {
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
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
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.u32();
      break;
    case 10: // memory.copy 0x00 0x00
      readZeroByte(r);
      readZeroByte(r);
      break;
    case 11: // memory.fill 0x00
      readZeroByte(r);
      break;
    case 12: // table.init elemidx tableidx
    case 14: // table.copy dst src
      r.u32();
      r.u32();
      break;
    default:
      throw new ModuleFormatError(`unsupported opcode 0xfc ${sub}`);
  }
  return 0xfc00 | sub;
}
