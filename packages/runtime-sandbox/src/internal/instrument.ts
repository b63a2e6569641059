// Load-time instrumentation: parse a core module, enforce the import policy, the module limits and
// the memory/table caps, and inject deterministic gas metering and NaN canonicalization. The
// output is what gets hashed, compiled and run.
//
// Gas model (normative text in docs/spec/sandbox.md §5 and §"Instruction costs"): every
// instruction costs 1. Self-charging functions (with loops, exported, start) charge their
// function-level region at entry and each loop body at its header; loop-free internal functions
// are pre-paid by their call sites and charge only the pre-payments for their own callees, once,
// at the innermost block enclosing those calls. Bulk instructions also pay for their length,
// computed from the length operand right before they execute. Every charge is a call of one
// appended helper that subtracts from a module-internal i64 global and executes `unreachable`
// when the result is negative — no host calls on the hot path, and no copy of the counter
// anywhere else, so the global is exact at every call, return and trap.
//
// Registration is linear in the module's size: every section entry and instruction is visited a
// fixed number of times, and a deterministic work counter (checked against a budget) proves it.
import { importGasGlobal, SHARED_GAS_MODULE, SHARED_GAS_NAME } from './gas-import.js';
import { MODULE_LIMITS, outputBudget, workBudget } from './module-limits.js';
import {
  IMM,
  nanResultWidth,
  OP_BLOCK,
  OP_BR_TABLE,
  OP_CALL,
  OP_CALL_INDIRECT,
  OP_ELSE,
  OP_END,
  OP_F32_CONST,
  OP_F32_EQ,
  OP_F64_CONST,
  OP_F64_EQ,
  OP_GLOBAL_GET,
  OP_GLOBAL_SET,
  OP_I32_CONST,
  OP_I32_EQ,
  OP_I64_ADD,
  OP_I64_CONST,
  OP_I64_EXTEND_I32_U,
  OP_I64_LE_U,
  OP_I64_LT_S,
  OP_I64_SHL,
  OP_I64_SHR_U,
  OP_I64_SUB,
  OP_IF,
  OP_LOCAL_GET,
  OP_LOCAL_TEE,
  OP_LOOP,
  OP_MEMORY_COPY,
  OP_MEMORY_FILL,
  OP_MEMORY_GROW,
  OP_MEMORY_INIT,
  OP_MEMORY_SIZE,
  OP_REF_FUNC,
  OP_REF_NULL,
  OP_RETURN_CALL,
  OP_RETURN_CALL_INDIRECT,
  OP_SELECT,
  OP_TABLE_COPY,
  OP_TABLE_FILL,
  OP_TABLE_GROW,
  OP_TABLE_INIT,
  OP_TABLE_SIZE,
  OP_UNREACHABLE,
  readConstExpr,
  readInstruction,
  readRefType,
} from './opcodes.js';
import {
  ByteReader,
  ByteWriter,
  type Limits,
  lebLength,
  ModuleFormatError,
  readLimits,
  sLebLength,
} from './wasm-binary.js';

/** Export names the instrumenter adds; a module that already uses the prefix is rejected. */
export const GAS_EXPORT = '__helm_gas';
export const GROW_FAILED_EXPORT = '__helm_grow_failed';
export const START_EXPORT = '__helm_start';
const RESERVED_PREFIX = '__helm_';

export const WASM_PAGE_BYTES = 65536;

/**
 * Length-dependent instruction costs (docs/spec/sandbox.md §"Instruction costs"), charged on top
 * of the instruction's own 1 right before it executes: memory.fill/copy/init `n >> 4` (one per
 * 16 bytes), table.fill/copy `n << 3` (eight per element: a table element costs the engine far
 * more than a byte), table.init `n << 4` (sixteen: each element is also decoded from its segment),
 * memory.grow `n << 12` (4096 per 64 KiB page) and table.grow `n << 3` when
 * the growth will succeed (current size + n ≤ the effective maximum), else 0.
 */
export const BULK_COSTS = Object.freeze({
  byteShift: 4,
  pageShift: 12,
  elementShift: 3,
  initElementShift: 4,
});

export type ImportKind = 'func' | 'table' | 'memory' | 'global';

export interface ModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ImportKind;
  /** For functions: the signature as `params->results`, e.g. `i32,i64->i32`. */
  readonly signature?: string;
}

export interface ModuleExport {
  readonly name: string;
  readonly kind: ImportKind;
  /** For functions: the signature as `params->results` (`->` for no parameters and no results). */
  readonly signature?: string;
}

/** Decides whether an import is provided by the host; `false` rejects the module (SANDBOX_VIOLATION). */
export type ImportPolicy = (imp: ModuleImport) => boolean;

export interface InstrumentOptions {
  readonly maxMemoryPages: number;
  readonly maxTableElements: number;
  readonly importPolicy: ImportPolicy;
  /**
   * Replace every NaN a float instruction produces by the canonical NaN (default true), so results
   * are bit-identical on every CPU architecture. `false` keeps the engine's NaN bit patterns
   * (replay is then only guaranteed on the same architecture).
   */
  readonly canonicalizeNaN?: boolean;
  /**
   * For a component's core modules (default false): the gas counter is *imported* as
   * `__helm`.`gas` (a mutable i64 the run shares between all its core instances, sandbox.md §5)
   * instead of being a global of the module. Off, the output is byte for byte what it always was.
   */
  readonly sharedGas?: boolean;
}

export interface InstrumentedModule {
  readonly bytes: Uint8Array;
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** Effective memory limits in pages after capping (null if the module has no memory). */
  readonly memory: { readonly min: number; readonly max: number } | null;
  readonly functionCount: number;
  /**
   * Whether every NaN the module can produce is canonical: canonicalization was on, or the module
   * has no NaN-producing instruction (then the bytes are the same either way).
   */
  readonly canonicalizeNaN: boolean;
  /** Deterministic count of the instrumenter's elementary steps (linear in the input size). */
  readonly work: number;
}

/** Thrown when an import is outside the host's set (mapped to SANDBOX_VIOLATION). */
export class ImportViolationError extends Error {
  readonly code = 'SANDBOX_VIOLATION' as const;
}

const KINDS: readonly ImportKind[] = ['func', 'table', 'memory', 'global'];
const VALTYPE_NAMES: Readonly<Record<number, string>> = {
  127: 'i32',
  126: 'i64',
  125: 'f32',
  124: 'f64',
  112: 'funcref',
  111: 'externref',
};
// Canonical section order (tag = 13 is not supported and rejected below).
const SECTION_ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

/**
 * A stack of int32 values on a growable typed array (no allocation per push, cheap reset). Kept
 * apart from FloatStack so that every call site sees one array type.
 */
class IntStack {
  private data = new Int32Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  pop(): number {
    return this.data[--this.length] as number;
  }

  top(): number {
    return this.data[this.length - 1] as number;
  }

  at(i: number): number {
    return this.data[i] as number;
  }

  /** The entries [0, length) are array()[0, length): for a read-only loop, valid until the next push. */
  array(): Int32Array {
    return this.data;
  }

  /** Empties the stack, dropping an allocation over `keep` entries (kept between modules). */
  release(keep: number): void {
    this.length = 0;
    if (this.data.length > keep) this.data = new Int32Array(64);
  }
}

/** A stack of doubles (gas costs may exceed int32), as IntStack. */
class FloatStack {
  private data = new Float64Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  at(i: number): number {
    return this.data[i] as number;
  }

  add(i: number, v: number): void {
    this.data[i] = (this.data[i] as number) + v;
  }

  release(keep: number): void {
    this.length = 0;
    if (this.data.length > keep) this.data = new Float64Array(64);
  }
}

/** Counts work units and refuses the module once the budget is spent. */
class Work {
  n = 0;
  constructor(private readonly budget: number) {}

  add(units: number): void {
    this.n += units;
    if (this.n > this.budget) {
      throw new ModuleFormatError(
        `registration work budget exceeded (${this.budget} units for this module size)`,
      );
    }
  }
}

function limit(count: number, max: number, what: string): void {
  if (count > max) throw new ModuleFormatError(`too many ${what}: ${count} (limit ${max})`);
}

/** A vector section with entries appended (the section may be absent). */
function appendToVector(section: Uint8Array | undefined, entries: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter();
  if (section === undefined) w.u32(entries.length);
  else {
    const r = new ByteReader(section);
    w.u32(r.u32() + entries.length).bytes(section.subarray(r.pos));
  }
  for (const e of entries) w.bytes(e);
  return w.toBytes();
}

function capLimits(limits: Limits, cap: number, what: string): Limits {
  if (limits.min > cap)
    throw new ModuleFormatError(`${what} initial size ${limits.min} exceeds the cap ${cap}`);
  return { min: limits.min, max: limits.max === null ? cap : Math.min(limits.max, cap) };
}

function writeLimits(w: ByteWriter, limits: Limits): void {
  w.u8(0x01)
    .u32(limits.min)
    .u32(limits.max as number);
}

function readValTypeName(r: ByteReader): string {
  const t = r.u8();
  const name = VALTYPE_NAMES[t];
  if (name === undefined) throw new ModuleFormatError(`unsupported value type 0x${t.toString(16)}`);
  return name;
}

function readGlobalType(r: ByteReader): void {
  readValTypeName(r);
  const mut = r.u8();
  if (mut > 1) throw new ModuleFormatError(`unsupported global mutability 0x${mut.toString(16)}`);
}

/** A constant expression (readConstExpr), a `ref.func` in it added to `refs`. */
function constExprRefs(r: ByteReader, refs: Set<number>): void {
  if (readConstExpr(r) === OP_REF_FUNC) refs.add(IMM.value);
}

interface TypeTable {
  readonly signatures: string[];
  readonly paramCounts: number[];
}

function readTypeSection(r: ByteReader, work: Work): TypeTable {
  const signatures: string[] = [];
  const paramCounts: number[] = [];
  const n = r.u32();
  limit(n, MODULE_LIMITS.types, 'types');
  for (let i = 0; i < n; i++) {
    if (r.u8() !== 0x60) throw new ModuleFormatError('unsupported type form (only function types)');
    const params: string[] = [];
    const results: string[] = [];
    for (let j = r.u32(); j > 0; j--) params.push(readValTypeName(r));
    for (let j = r.u32(); j > 0; j--) results.push(readValTypeName(r));
    signatures.push(`${params.join(',')}->${results.join(',')}`);
    paramCounts.push(params.length);
    work.add(1 + params.length + results.length);
  }
  return { signatures, paramCounts };
}

/** Element segments: modes 0–7 with funcref/externref entries; returns the number of entries. */
function readElementSection(r: ByteReader, work: Work, refs: Set<number>): void {
  const n = r.u32();
  limit(n, MODULE_LIMITS.elemSegments, 'element segments');
  let entries = 0;
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags > 7) throw new ModuleFormatError(`unsupported element segment flags ${flags}`);
    if ((flags & 0b011) === 0b010) r.u32(); // explicit table index
    if ((flags & 0b001) === 0) readConstExpr(r); // active: offset
    const usesExprs = (flags & 0b100) !== 0;
    if ((flags & 0b011) !== 0) {
      if (usesExprs) readRefType(r, 'element');
      else if (r.u8() !== 0x00) throw new ModuleFormatError('unsupported element kind');
    }
    const count = r.u32();
    entries += count;
    limit(entries, MODULE_LIMITS.elemEntries, 'element segment entries');
    for (let j = 0; j < count; j++) {
      if (usesExprs) {
        const op = r.bytes[r.pos];
        if (op !== OP_REF_NULL && op !== OP_REF_FUNC && op !== OP_GLOBAL_GET) {
          throw new ModuleFormatError('unsupported element expression');
        }
        constExprRefs(r, refs);
      } else refs.add(r.u32());
    }
    work.add(1 + count);
  }
}

function readDataSection(r: ByteReader, work: Work): void {
  const n = r.u32();
  limit(n, MODULE_LIMITS.dataSegments, 'data segments');
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags === 2 && r.u32() !== 0) throw new ModuleFormatError('only memory 0 is supported');
    if (flags === 0 || flags === 2) readConstExpr(r);
    else if (flags !== 1) throw new ModuleFormatError(`unsupported data segment flags ${flags}`);
    r.skip(r.u32());
    work.add(1);
  }
}

interface Section {
  readonly id: number;
  readonly body: Uint8Array;
}

function splitSections(bytes: Uint8Array, work: Work): Section[] {
  const r = new ByteReader(bytes);
  const magic = r.bytesOf(8);
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!header.every((b, i) => magic[i] === b))
    throw new ModuleFormatError('not a WebAssembly 1.0 core module');
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const body = r.bytesOf(size);
    work.add(1);
    if (id === 0) continue; // custom sections are dropped
    if (!SECTION_ORDER.includes(id)) throw new ModuleFormatError(`unsupported section id ${id}`);
    sections.push({ id, body });
  }
  return sections;
}

const I64 = 0x7e;
const I32 = 0x7f;

/** What the rewriter needs about the module: appended items and precomputed sequences. */
interface ModuleContext {
  readonly gas: number;
  /** `i64.sub; global.set $gas; global.get $gas; i64.const 0; i64.lt_s; if; unreachable; end` */
  readonly chargeTail: Uint8Array;
  readonly importedFuncs: number;
  /** What a call pre-pays for each defined function: its cost if pre-paid, 0 if self-charging. */
  readonly prepay: Float64Array;
  readonly maxPrepay: number;
  readonly canonicalizeNaN: boolean;
  /**
   * Generated sequences by index: `call $canon_f32`, `call $canon_f64` (empty when the module needs
   * none), and after memory.grow: OR `result == -1` into the grow-failed flag, keeping the result
   * (G_CANON32 … G_GROW_RECORD). Then 4 undefined slots, where a body puts its bulk charges
   * (BodyEdits).
   */
  readonly gens: ReadonlyArray<Uint8Array | undefined>;
  /** Effective maximum pages of the memory (-1 without memory). */
  readonly memoryMax: number;
  /** Effective maximum of every table, by table index. */
  readonly tableMax: readonly number[];
  /** The registration size budget (bytes of instrumented output). */
  readonly budget: number;
}

/**
 * Charge `cost` on the gas global, inline: `global.get $gas; i64.const cost` and the charge tail.
 * (Inline rather than a call of a helper: in a hot loop the engine did not inline such a call, and
 * a loop-header charge cost up to 4× as much run time — docs/PERFORMANCE.md.)
 */
function chargeGlobal(w: ByteWriter, m: ModuleContext, cost: number): void {
  w.u8(OP_GLOBAL_GET).u32(m.gas);
  w.u8(OP_I64_CONST).sNum(cost);
  w.bytes(m.chargeTail);
}

/** The end of every charge: subtract the cost on the stack from the global; trap if negative. */
function chargeTail(gas: number): Uint8Array {
  const w = new ByteWriter();
  w.u8(OP_I64_SUB);
  w.u8(OP_GLOBAL_SET).u32(gas);
  w.u8(OP_GLOBAL_GET).u32(gas);
  w.u8(OP_I64_CONST).u8(0).u8(OP_I64_LT_S);
  w.u8(OP_IF).u8(0x40).u8(OP_UNREACHABLE).u8(OP_END);
  return w.toBytes();
}

/** Body of `(func (param f32|f64) (result f32|f64))`: the argument, or the canonical NaN if it is a NaN. */
function canonHelperBody(width: 32 | 64): Uint8Array {
  const w = new ByteWriter().u32(0);
  w.u8(OP_LOCAL_GET).u32(0);
  if (width === 32) w.u8(OP_F32_CONST).bytes([0x00, 0x00, 0xc0, 0x7f]);
  else w.u8(OP_F64_CONST).bytes([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f]);
  w.u8(OP_LOCAL_GET).u32(0).u8(OP_LOCAL_GET).u32(0);
  w.u8(width === 32 ? OP_F32_EQ : OP_F64_EQ);
  w.u8(OP_SELECT).u8(OP_END);
  return w.toBytes();
}

/** Bytes chargeGlobal writes. */
function chargeGlobalSize(m: ModuleContext, cost: number): number {
  return 2 + lebLength(m.gas) + sLebLength(cost) + m.chargeTail.length;
}

/** Pushes the length operand (in `len`) as an i64. */
function pushLength(w: ByteWriter, len: number): void {
  w.u8(OP_LOCAL_GET).u32(len).u8(OP_I64_EXTEND_I32_U);
}

/**
 * Pushes the dynamic cost of a bulk instruction as an i64, computed from its length operand
 * (already in local `len`). `grow` is the growth condition's `size` instruction and the maximum.
 */
function pushBulkCost(w: ByteWriter, op: number, len: number, m: ModuleContext, table: number): void {
  pushLength(w, len);
  if (op === OP_MEMORY_FILL || op === OP_MEMORY_COPY || op === OP_MEMORY_INIT) {
    w.u8(OP_I64_CONST).u8(BULK_COSTS.byteShift).u8(OP_I64_SHR_U);
    return;
  }
  // memory.grow: 4096 per page; table.init: 16 per element; other table.*: 8 per element
  const shift =
    op === OP_MEMORY_GROW
      ? BULK_COSTS.pageShift
      : op === OP_TABLE_INIT
        ? BULK_COSTS.initElementShift
        : BULK_COSTS.elementShift;
  w.u8(OP_I64_CONST).u8(shift).u8(OP_I64_SHL);
  if (op !== OP_MEMORY_GROW && op !== OP_TABLE_GROW) return; // table.fill/copy/init
  // select(cost, 0, size + n <= max): charged only when the growth will succeed.
  let max: number;
  if (op === OP_MEMORY_GROW) {
    w.u8(OP_I64_CONST).u8(0);
    w.u8(OP_MEMORY_SIZE).u8(0x00);
    max = m.memoryMax;
  } else {
    w.u8(OP_I64_CONST).u8(0);
    w.u8(0xfc)
      .u32(OP_TABLE_SIZE & 0xff)
      .u32(table);
    max = m.tableMax[table] as number;
  }
  w.u8(OP_I64_EXTEND_I32_U);
  pushLength(w, len);
  w.u8(OP_I64_ADD);
  w.u8(OP_I64_CONST).sNum(max);
  w.u8(OP_I64_LE_U);
  w.u8(OP_SELECT);
}

/** `local.tee len`, then charge the bulk cost on the global. */
function bulkCharge(op: number, table: number, lenLocal: number, m: ModuleContext): Uint8Array {
  const w = new ByteWriter();
  w.u8(OP_LOCAL_TEE).u32(lenLocal);
  w.u8(OP_GLOBAL_GET).u32(m.gas);
  pushBulkCost(w, op, lenLocal, m, table);
  w.bytes(m.chargeTail);
  return w.toBytes();
}

function growRecordSequence(failed: number, tmp: number): Uint8Array {
  // memory.grow is emitted before; record a failed grow (−1) in the exported flag.
  const w = new ByteWriter();
  w.u8(OP_GLOBAL_SET).u32(tmp);
  w.u8(OP_GLOBAL_GET).u32(failed);
  w.u8(OP_GLOBAL_GET).u32(tmp);
  w.u8(OP_I32_CONST).s32(-1);
  w.u8(OP_I32_EQ);
  w.u8(0x72); // i32.or
  w.u8(OP_GLOBAL_SET).u32(failed);
  w.u8(OP_GLOBAL_GET).u32(tmp);
  return w.toBytes();
}

/** What the instrumenter needs to know about every function before rewriting any. */
export interface FunctionInfo {
  /** Contains a loop: charges its own regions (entry and every loop header). */
  readonly hasLoop: boolean;
  /** Instructions of the function-level region (all instructions outside loop bodies). */
  readonly cost: number;
  /** Has a length-charged instruction (needs the i32 length local). */
  readonly bulk: boolean;
  /** NaN-producing float instructions: bit 0 f32, bit 1 f64. */
  readonly nan: number;
  /** Instructions decoded. */
  readonly instructions: number;
}

// Length-charged 0xfc-prefixed instructions, by subopcode (memory.grow is the only single-byte one).
const BULK_FC = new Uint8Array(256);
for (const op of [
  OP_MEMORY_INIT,
  OP_MEMORY_COPY,
  OP_MEMORY_FILL,
  OP_TABLE_GROW,
  OP_TABLE_INIT,
  OP_TABLE_COPY,
  OP_TABLE_FILL,
])
  BULK_FC[op & 0xff] = 1;

function isBulk(op: number): boolean {
  return op > 0xff ? BULK_FC[op & 0xff] === 1 : op === OP_MEMORY_GROW;
}

// The block depth at which each open loop was opened, in the analysis pass (its `end` closes it).
const openLoops = new IntStack();

// What the rewriter does at each single-byte opcode (0xfc-prefixed ones are all R_BULK);
// R_COPY instructions are copied through untouched.
const R_COPY = 0;
const R_NAN = 1; // only in REWRITE_NAN
const R_CALL = 2;
const R_LOOP = 3;
const R_BLOCK = 4; // block, if
const R_ELSE = 5;
const R_END = 6;
const R_BR_TABLE = 7;
const R_MEMORY_GROW = 8;
const R_BULK = 9; // 0xfc-prefixed instructions
const REWRITE = new Uint8Array(256);
for (const [ops, kind] of [
  [[OP_CALL, OP_CALL_INDIRECT, OP_RETURN_CALL, OP_RETURN_CALL_INDIRECT], R_CALL],
  [[OP_LOOP], R_LOOP],
  [[OP_BLOCK, OP_IF], R_BLOCK],
  [[OP_ELSE], R_ELSE],
  [[OP_END], R_END],
  [[OP_BR_TABLE], R_BR_TABLE],
  [[OP_MEMORY_GROW], R_MEMORY_GROW],
] as const)
  for (const op of ops) REWRITE[op] = kind;
const REWRITE_NAN = REWRITE.slice();
for (let op = 0; op < 256; op++) if (nanResultWidth(op) !== 0) REWRITE_NAN[op] = R_NAN;

// What the analysis pass looks at, by single-byte opcode (0xfc-prefixed ones are looked up apart).
const A_PLAIN = 0;
const A_NAN32 = 1;
const A_NAN64 = 2;
const A_BLOCK = 3;
const A_LOOP = 4;
const A_END = 5;
const A_BR_TABLE = 6;
const A_OTHER = 7; // memory.grow and 0xfc-prefixed instructions
const ANALYZE = new Uint8Array(256);
for (let op = 0; op < 256; op++) {
  const width = nanResultWidth(op);
  if (width !== 0) ANALYZE[op] = width === 32 ? A_NAN32 : A_NAN64;
}
ANALYZE[OP_BLOCK] = A_BLOCK;
ANALYZE[OP_IF] = A_BLOCK;
ANALYZE[OP_LOOP] = A_LOOP;
ANALYZE[OP_END] = A_END;
ANALYZE[OP_BR_TABLE] = A_BR_TABLE;
ANALYZE[OP_MEMORY_GROW] = A_OTHER;

const lastInfo = { hasLoop: false, cost: 0, bulk: false, nan: 0, instructions: 0 };

// Instructions per slice of a pass over a body: each pass's loop runs in a function that is called
// often, which the engine optimizes as a whole, rather than in one long call, which it can only
// optimize on the stack (measured: the analysis pass ~25 % slower that way, and from run to run
// less predictably).
const SLICE = 4096;

/** The state of one body's analysis between slices. */
class BodyScan {
  /** Open blocks, the function body included (0: the body's final `end` was read). */
  depth = 1;
  decoded = 0;
  /** Instructions inside loop bodies (after a loop's opcode, up to and including its `end`). */
  inLoops = 0;
  /** The number of the outermost open loop's opcode. */
  loopStart = 0;
  loops = false;
  bulk = false;
  nan = 0;
  /** br_table target bytes. */
  targets = 0;

  reset(): void {
    this.depth = 1;
    this.decoded = 0;
    this.inLoops = 0;
    this.loopStart = 0;
    this.loops = false;
    this.bulk = false;
    this.nan = 0;
    this.targets = 0;
  }
}

const bodyScan = new BodyScan();

/** Analyzes up to SLICE more instructions of the body; returns whether its final `end` was read. */
function analyzeSlice(r: ByteReader, s: BodyScan): boolean {
  const loopsOpen = openLoops;
  let depth = s.depth;
  let decoded = s.decoded;
  let inLoops = s.inLoops;
  let loopStart = s.loopStart;
  let nan = s.nan;
  let targets = s.targets;
  const stop = decoded + SLICE;
  while (depth > 0 && decoded < stop) {
    const start = r.pos;
    const op = readInstruction(r);
    decoded++;
    const kind = op > 0xff ? A_OTHER : (ANALYZE[op] as number);
    if (kind === A_PLAIN) continue;
    switch (kind) {
      case A_END:
        if (loopsOpen.length > 0 && loopsOpen.top() === depth) {
          loopsOpen.pop();
          if (loopsOpen.length === 0) inLoops += decoded - loopStart;
        }
        depth--;
        break;
      case A_NAN32:
        nan |= 1;
        break;
      case A_NAN64:
        nan |= 2;
        break;
      case A_BLOCK:
        depth++;
        break;
      case A_LOOP:
        s.loops = true;
        depth++;
        if (loopsOpen.length === 0) loopStart = decoded;
        loopsOpen.push(depth);
        break;
      case A_BR_TABLE:
        targets += r.pos - start;
        break;
      default:
        if (isBulk(op)) s.bulk = true;
    }
  }
  s.depth = depth;
  s.decoded = decoded;
  s.inLoops = inLoops;
  s.loopStart = loopStart;
  s.nan = nan;
  s.targets = targets;
  return depth === 0;
}

/** First pass over a body (the reader spans exactly the body); the result is valid until the next call. */
function analyzeBody(r: ByteReader): FunctionInfo {
  for (let groups = r.u32(); groups > 0; groups--) {
    r.u32();
    readValTypeName(r);
  }
  const s = bodyScan;
  s.reset();
  openLoops.length = 0;
  while (!analyzeSlice(r, s)) {}
  if (r.pos < r.end) r.fail('trailing bytes after function body');
  lastInfo.hasLoop = s.loops;
  lastInfo.cost = s.decoded - s.inLoops;
  lastInfo.bulk = s.bulk;
  lastInfo.nan = s.nan;
  lastInfo.instructions = s.decoded + s.targets;
  return lastInfo;
}

// A body's rewrite is a list of insertions into its code (BodyEdits). The region and slot charges
// are only known later (at the region's end, at the body's end): they are inserted as markers
// −1 − (index × 2 + kind), resolved when the body is written out.
const M_REGION = 0; // charge of region `index`
const M_SLOT = 1; // pre-payment charge, if block `index` is the chosen one
const marker = (index: number, kind: number): number => -1 - (index * 2 + kind);

/**
 * Where a pre-paid function charges its callees' pre-payments: one charge of their sum, at the
 * start of the innermost block (function body, `block`, `if` arm, `else` arm) enclosing all of its
 * call sites (docs/spec/sandbox.md §5).
 *
 * Why this never under-charges. A pre-paid function has no loop, so in one invocation control
 * passes each block start and each call site at most once. Structured control flow enters a block
 * only through its start (branches only leave blocks or go back to a loop header, and there is no
 * loop), so every call site that executes was preceded, in the same invocation, by the start of
 * every block enclosing it — in particular of the chosen block, which encloses all of them. The
 * charge there is the sum over *all* call sites, so each invocation pays, before its first call,
 * at least the pre-payments of the calls it actually makes; skipped arms only over-charge. A
 * function without call sites charges nothing.
 *
 * How the block is found in O(1) per call (registration stays linear): the walk is depth-first,
 * `path` holds the ids of the open blocks (outermost first). The innermost block enclosing two
 * consecutive call sites is the prefix of `path` up to the shallowest length reached between
 * them (`minDepth`), and the one enclosing all call sites so far is the shortest such prefix
 * (`lcaLen`): it only shrinks, and entries below `minDepth` were never popped, so `path` still
 * holds the chosen block at `lcaLen − 1`.
 */
class PrepaySlot {
  readonly path = new IntStack();
  private nextBlock = 1;
  private lcaLen = -1; // -1 until the first call site
  private minDepth = 0;
  /** The chosen block's id (0: the function body; -1: no call site). */
  block = -1;
  /** The sum of every call site's pre-payment. */
  pending = 0;

  /** Starts a body: only the function body (block 0) is open. */
  reset(): void {
    this.path.length = 0;
    this.path.push(0);
    this.nextBlock = 1;
    this.lcaLen = -1;
    this.minDepth = 0;
    this.block = -1;
    this.pending = 0;
  }

  /** A block or an `if`/`else` arm opens; returns its id. */
  open(): number {
    const id = this.nextBlock++;
    this.path.push(id);
    return id;
  }

  /** The innermost open block or arm closes. */
  close(): void {
    this.path.pop();
    if (this.path.length < this.minDepth) this.minDepth = this.path.length;
  }

  /** A call site pre-paying `prepay`, inside the innermost open block. */
  call(prepay: number): void {
    this.pending += prepay;
    if (this.lcaLen < 0) this.lcaLen = this.path.length;
    else if (this.minDepth < this.lcaLen) this.lcaLen = this.minDepth;
    this.block = this.path.at(this.lcaLen - 1);
    this.minDepth = this.path.length;
  }
}

// A body's generated sequences, by index: the module's (ModuleContext.gens), its bulk charges
// (built on first use), then ad-hoc ones (table.grow charges, which name their table).
const G_CANON32 = 0;
const G_CANON64 = 1;
const G_GROW_RECORD = 2;
const G_BYTES = 3; // memory.fill/copy/init
const G_ELEMS = 4; // table.fill/copy
const G_INIT_ELEMS = 5; // table.init (each element costs twice as much)
const G_MEM_GROW = 6;
const G_FIXED = 7;

/**
 * The rewrite of one body: what to insert where, in code order, as pairs `at, what` — before the
 * source byte at offset `at`, the sequence `seqs[what]` (what ≥ 0) or the deferred charge with
 * marker `what` (< 0). The rewrite pass only records; emitBody copies the source and the inserted
 * sequences straight into the output, so the rewritten code is written once.
 */
class BodyEdits {
  readonly list = new IntStack();
  readonly seqs: Array<Uint8Array | undefined> = [];
  /** Bytes of the sequences inserted so far (deferred charges not included). */
  inserted = 0;
  /** Deferred charges recorded. */
  markers = 0;

  /** Starts a body: the module's sequences (the bulk charges are built per body, on first use). */
  reset(moduleSeqs: ReadonlyArray<Uint8Array | undefined>): void {
    this.list.length = 0;
    this.inserted = 0;
    this.markers = 0;
    const seqs = this.seqs;
    if (seqs.length !== G_FIXED) seqs.length = G_FIXED; // (setting it is slow even when unchanged)
    for (let i = 0; i < G_FIXED; i++) seqs[i] = moduleSeqs[i];
  }

  insert(at: number, what: number): void {
    this.list.push(at);
    this.list.push(what);
    this.inserted += (this.seqs[what] as Uint8Array).length;
  }

  /** Inserts a sequence that is not one of the body's fixed ones. */
  insertBytes(at: number, bytes: Uint8Array): void {
    this.seqs.push(bytes);
    this.insert(at, this.seqs.length - 1);
  }

  defer(at: number, what: number): void {
    this.list.push(at);
    this.list.push(what);
    this.markers++;
  }
}

// Reused between bodies (instrumentation is synchronous).
const edits = new BodyEdits();
const regionCost = new FloatStack();
const regionStack = new IntStack();
// The block depth at which each open loop was opened (its `end` closes its region).
const loopDepths = new IntStack();
const prepaySlot = new PrepaySlot();

/** Drops the reused state of a large module (kept allocations stay under `keep` entries each). */
function releaseBodyState(keep: number): void {
  edits.list.release(keep);
  edits.seqs.length = 0;
  regionCost.release(keep);
  regionStack.release(keep);
  loopDepths.release(keep);
  prepaySlot.path.release(keep);
  openLoops.release(keep);
}

/** A body's local declarations: where they are and how many locals (parameters included). */
interface LocalDecls {
  groups: number;
  start: number;
  end: number;
  locals: number;
}

/** Reads a body's local declarations into `decls` (reused from body to body). */
function readLocalDecls(r: ByteReader, paramCount: number, decls: LocalDecls): LocalDecls {
  const groups = r.u32();
  const start = r.pos;
  let locals = paramCount;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    if (locals > MODULE_LIMITS.locals) {
      throw new ModuleFormatError(
        `too many locals: ${locals} parameters and locals (limit ${MODULE_LIMITS.locals})`,
      );
    }
    readValTypeName(r);
  }
  decls.groups = groups;
  decls.start = start;
  decls.end = r.pos;
  decls.locals = locals;
  return decls;
}

/**
 * A 0xfc-prefixed instruction at body[start, …): the length charge before a bulk one (an
 * out-of-bounds table trap needs no inserted code: the isolation port classifies it by the
 * opcode at the trap site, guest-run.ts tableTrapCode). Returns the new copy position.
 */
function rewriteBulk(
  op: number,
  e: BodyEdits,
  copyFrom: number,
  start: number,
  lenLocal: number,
  m: ModuleContext,
): number {
  if (!isBulk(op)) return copyFrom;
  if (op === OP_TABLE_GROW) e.insertBytes(start, bulkCharge(op, IMM.value, lenLocal, m));
  else {
    // one sequence per cost formula (pushBulkCost): memory bytes, table elements, table.init's
    const g =
      op === OP_MEMORY_FILL || op === OP_MEMORY_COPY || op === OP_MEMORY_INIT
        ? G_BYTES
        : op === OP_TABLE_INIT
          ? G_INIT_ELEMS
          : G_ELEMS;
    if (e.seqs[g] === undefined) e.seqs[g] = bulkCharge(op, 0, lenLocal, m);
    e.insert(start, g);
  }
  return start;
}

/**
 * Applies the edits from entry `first` on to body[from, …), writing straight into the output's
 * buffer: the source up to each edit, then its sequence; stops after the source part of the next
 * deferred charge (or at the end of the list). Returns the index of the entry after the last one
 * applied.
 */
function copyRun(out: ByteWriter, body: Uint8Array, from: number, first: number): number {
  const list = edits.list.array();
  const count = edits.list.length;
  const seqs = edits.seqs;
  const buf = out.claim(0); // (the room was made by emitBody)
  let len = out.length;
  let copied = from;
  let i = first;
  while (i < count) {
    const at = list[i] as number;
    const what = list[i + 1] as number;
    i += 2;
    if (at - copied > 64) {
      buf.set(body.subarray(copied, at), len);
      len += at - copied;
    } else for (let j = copied; j < at; j++) buf[len++] = body[j] as number;
    copied = at;
    if (what < 0) break;
    const s = seqs[what] as Uint8Array;
    const n = s.length;
    for (let j = 0; j < n; j++) buf[len++] = s[j] as number;
  }
  out.setLength(len);
  return i;
}

/** The size of the body emitBody will write (its local declarations and rewritten code). */
function bodySize(
  decls: LocalDecls,
  codeEnd: number,
  prepaid: boolean,
  bulk: boolean,
  m: ModuleContext,
): number {
  const added = bulk ? 1 : 0;
  let size = lebLength(decls.groups + added) + (decls.end - decls.start) + 2 * added;
  size += codeEnd - decls.end + edits.inserted;
  // a self-charging function's charge per region (only loop functions have more than one) …
  if (!prepaid) for (let i = 0; i < regionCost.length; i++) size += chargeGlobalSize(m, regionCost.at(i));
  // … or a pre-paid function's one pre-payment, at the chosen block
  if (prepaid && prepaySlot.block >= 0 && prepaySlot.pending > 0)
    size += chargeGlobalSize(m, prepaySlot.pending);
  return size;
}

/**
 * Writes a rewritten body to `out`: the local declarations (plus the length local), then the code
 * body[decls.end, codeEnd) with the edits applied — the generated sequences, the region charges
 * of a self-charging function and, in a pre-paid function, the one pre-payment charge at the
 * chosen block.
 */
function emitBody(
  out: ByteWriter,
  body: Uint8Array,
  decls: LocalDecls,
  codeEnd: number,
  bulk: boolean,
  prepaid: boolean,
  m: ModuleContext,
): void {
  out.u32(decls.groups + (bulk ? 1 : 0)).range(body, decls.start, decls.end);
  if (bulk) out.u8(0x01).u8(I32);
  // Room for the whole body at once (copyRun writes the buffer directly): its code, the inserted
  // sequences and the charges — one per region (at most 48 bytes each) and the pre-payment one.
  out.claim(codeEnd - decls.end + edits.inserted + 48 * (regionCost.length + 1));
  const list = edits.list;
  let from = decls.end;
  for (let i = 0; i < list.length; ) {
    // the run of plain insertions from entry i on, copied by one loop over the buffer
    i = copyRun(out, body, from, i);
    from = list.at(i - 2);
    const what = list.at(i - 1);
    if (what >= 0) continue;
    const code = -1 - what;
    const index = code >>> 1;
    if ((code & 1) === M_REGION) {
      if (!prepaid) chargeGlobal(out, m, regionCost.at(index));
    } else if (index === prepaySlot.block && prepaySlot.pending > 0) chargeGlobal(out, m, prepaySlot.pending);
  }
  out.range(body, from, codeEnd);
}

/** The state of one body's rewrite between slices (rewriteSlice); also the body's frame. */
class BodyRewrite {
  // fixed for the body
  func = 0;
  /** The added i32 local that holds a bulk instruction's length operand. */
  lenLocal = 0;
  readonly decls: LocalDecls = { groups: 0, start: 0, end: 0, locals: 0 };
  prepaid = false;
  codeStart = 0;
  /** The size the code may reach before it is refused (body limit or module budget). */
  limit = 0;
  rewrite: Uint8Array = REWRITE;
  m: ModuleContext | null = null;
  // advanced by each slice
  /** Where the rewritten code would be copied up to: with edits.inserted, its size so far. */
  copyFrom = 0;
  /** Instructions decoded (each costs 1); region costs take them in bulk at region boundaries. */
  units = 0;
  /** Instructions already added to a region's cost. */
  counted = 0;
  /** Work besides decoding: call sites, br_table targets, rewrite points. */
  extra = 0;
  /** The current region (the innermost open loop's, 0: the function level). */
  current = 0;
  /** Open blocks, the function body included (0: the body's final `end` was read). */
  depth = 1;
}

const bodyRewrite = new BodyRewrite();

/**
 * Rewrites one function body (locals + expression) into `out` and returns the work it did.
 * Self-charging functions charge the global at entry and at every loop header; pre-paid ones
 * only their callees' pre-payments (see PrepaySlot). Nothing is inserted at calls, branches or
 * returns: the counter lives only in the global. The rewrite pass records edits (rewriteSlice);
 * emitBody writes them out.
 */
function instrumentBody(
  index: number,
  r: ByteReader,
  paramCount: number,
  bulk: boolean,
  selfCharging: boolean,
  m: ModuleContext,
  out: ByteWriter,
): number {
  const st = bodyRewrite;
  const decls = readLocalDecls(r, paramCount, st.decls);
  st.func = m.importedFuncs + index;
  st.lenLocal = decls.locals;
  // Pre-paid functions (loop-free, not exported, not start) are paid for by their callers; they
  // charge only what they pre-pay for their own callees (see PrepaySlot).
  st.prepaid = !selfCharging;
  st.codeStart = r.pos;
  st.limit = Math.min(MODULE_LIMITS.instrumentedBodyBytes, m.budget);
  st.rewrite = m.canonicalizeNaN ? REWRITE_NAN : REWRITE;
  st.m = m;
  st.copyFrom = r.pos;
  st.units = 0;
  st.counted = 0;
  st.extra = 0;
  st.current = 0;
  st.depth = 1;
  const e = edits;
  e.reset(m.gens);
  regionCost.length = 0;
  regionStack.length = 0;
  loopDepths.length = 0;
  regionCost.push(0);
  regionStack.push(0);
  e.defer(st.codeStart, marker(0, M_REGION));
  prepaySlot.reset();
  if (st.prepaid) e.defer(st.codeStart, marker(0, M_SLOT));
  while (!rewriteSlice(r, st, e)) {}
  if (r.pos < r.end) r.fail('trailing bytes after function body');
  regionCost.add(st.current, st.units - st.counted);
  // Refused before it is written: the region charges were not counted while rewriting (a body of
  // empty loops grows 6×), and writing first would take the output past the size budget.
  const size = bodySize(decls, r.pos, st.prepaid, bulk, m);
  if (size > MODULE_LIMITS.instrumentedBodyBytes) throw tooBig(st.func, size);
  const at = out.length;
  emitBody(out, r.bytes, decls, r.pos, bulk, st.prepaid, m);
  if (out.length - at !== size)
    throw new Error(`instrumenter: body size ${out.length - at}, computed ${size}`);
  return st.units + st.extra + 2 * e.markers;
}

/**
 * A call site in the current region: what it pre-pays is charged at the pre-payment slot (pre-paid
 * function) or with the region (self-charging function). Nothing is inserted at the call.
 */
function prepayCall(op: number, current: number, st: BodyRewrite): void {
  const m = st.m as ModuleContext;
  let p = m.maxPrepay; // indirect: any pre-paid function may be the callee
  if (op === OP_CALL || op === OP_RETURN_CALL) {
    const callee = IMM.value - m.importedFuncs;
    // host functions and self-charging callees pre-pay nothing
    p = callee < 0 ? 0 : (m.prepay[callee] as number);
  }
  if (st.prepaid) prepaySlot.call(p);
  else regionCost.add(current, p);
}

/**
 * In a pre-paid function, a block or an arm opens at `at` (an `else` first closes the `if` arm):
 * a candidate pre-payment slot. Returns the new copy position.
 */
function openArm(isElse: boolean, at: number, e: BodyEdits): number {
  if (isElse) prepaySlot.close();
  e.defer(at, marker(prepaySlot.open(), M_SLOT));
  return at;
}

/**
 * Rewrites up to SLICE more instructions of the body into edits; returns whether the body's final
 * `end` was read.
 *
 * The per-instruction loop of the rewrite pass, whose state (read position, copy position,
 * instruction and work counters, the current region) stays in locals; call sites are pre-paid by
 * prepayCall, block starts by openArm, bulk instructions by rewriteBulk, and the loops' regions
 * are opened and closed here.
 */
function rewriteSlice(r: ByteReader, st: BodyRewrite, e: BodyEdits): boolean {
  const m = st.m as ModuleContext;
  const { prepaid, codeStart, limit, rewrite } = st;
  let { copyFrom, units, counted, extra, current, depth } = st;
  const stop = units + SLICE;
  while (depth > 0 && units < stop) {
    const start = r.pos;
    const op = readInstruction(r);
    units++;
    const kind = op > 0xff ? R_BULK : (rewrite[op] as number);
    if (kind === R_COPY) continue;
    extra++;
    switch (kind) {
      case R_NAN:
        // A float instruction that can produce a NaN: canonicalize its result.
        e.insert(r.pos, nanResultWidth(op) === 32 ? G_CANON32 : G_CANON64);
        copyFrom = r.pos;
        continue;
      case R_CALL:
        prepayCall(op, current, st);
        break;
      case R_LOOP:
        // instructions up to and including `loop` belong to the enclosing region
        regionCost.add(current, units - counted);
        counted = units;
        depth++;
        loopDepths.push(depth);
        current = regionCost.length;
        regionStack.push(current);
        regionCost.push(0);
        copyFrom = r.pos;
        e.defer(r.pos, marker(current, M_REGION));
        break;
      case R_BLOCK:
      case R_ELSE:
        if (kind === R_BLOCK) depth++;
        else if (depth === 1) {
          r.pos = start;
          r.fail('else outside if');
        }
        if (prepaid) copyFrom = openArm(kind === R_ELSE, r.pos, e);
        break;
      case R_END:
        if (prepaid) prepaySlot.close();
        if (loopDepths.length > 0 && loopDepths.top() === depth) {
          // up to and including the loop's `end`: the loop's region
          loopDepths.pop();
          regionCost.add(current, units - counted);
          counted = units;
          regionStack.pop();
          current = regionStack.top();
        }
        depth--;
        break;
      case R_BR_TABLE:
        extra += r.pos - start; // its targets
        break;
      case R_MEMORY_GROW:
        if (e.seqs[G_MEM_GROW] === undefined) e.seqs[G_MEM_GROW] = bulkCharge(op, 0, st.lenLocal, m);
        e.insert(start, G_MEM_GROW);
        e.insert(r.pos, G_GROW_RECORD);
        copyFrom = r.pos;
        break;
      default:
        copyFrom = rewriteBulk(op, e, copyFrom, start, st.lenLocal, m);
    }
    const size = copyFrom - codeStart + e.inserted;
    if (size > limit) {
      if (size > m.budget) throw overBudget(m.budget);
      throw tooBig(st.func, size);
    }
  }
  st.copyFrom = copyFrom;
  st.units = units;
  st.counted = counted;
  st.extra = extra;
  st.current = current;
  st.depth = depth;
  return depth === 0;
}

function tooBig(func: number, size: number): ModuleFormatError {
  return new ModuleFormatError(
    `function ${func} is ${size} bytes after instrumentation (limit ${MODULE_LIMITS.instrumentedBodyBytes})`,
  );
}

function overBudget(budget: number): ModuleFormatError {
  return new ModuleFormatError(
    `the instrumented module would exceed the registration size budget of ${budget} bytes (4 × the module + 1 MiB)`,
  );
}

/**
 * Instruments a core module. The input must already be a valid module (the caller runs
 * `WebAssembly.validate` first), so every index in the original code refers to original items and
 * the globals appended here are unreachable from guest code.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): InstrumentedModule {
  try {
    return instrument(bytes, options);
  } finally {
    releaseBodyState(1 << 18); // do not keep a large module's bookkeeping alive
  }
}

/** The caps of the options, clamped to the module limits. */
interface Caps {
  readonly memoryPages: number;
  readonly tableElements: number;
  readonly tableElementsTotal: number;
}

/** The effective maximum of every table, in index order, with the per-table and total caps applied. */
class TableCaps {
  readonly max: number[] = [];
  private total = 0;
  constructor(private readonly caps: Caps) {}

  /** Caps a declared or imported table's limits and records its effective maximum. */
  add(declared: Limits): Limits {
    const limits = capLimits(declared, this.caps.tableElements, 'table');
    this.max.push(limits.max as number);
    limit(this.max.length, MODULE_LIMITS.tables, 'tables');
    this.total += limits.max as number;
    if (this.total > this.caps.tableElementsTotal) {
      throw new ModuleFormatError(
        `tables may hold ${this.total} elements in total, over the cap of ${this.caps.tableElementsTotal}`,
      );
    }
    return limits;
  }
}

/** What the sections before the code say about the module, after capping. */
interface Declarations {
  readonly types: TypeTable;
  readonly imports: ModuleImport[];
  readonly importedGlobals: number;
  /** The type index of every function, imported first. */
  readonly funcTypes: Int32Array;
  readonly importedFuncs: number;
  readonly tables: TableCaps;
  readonly memory: Limits | null;
  readonly definedGlobals: number;
  /** The global section's entries (without their count), kept as they are. */
  readonly globalEntries: Uint8Array;
  readonly exports: ModuleExport[];
  readonly exportedFuncs: ReadonlySet<number>;
  readonly exportCount: number;
  /** The export section's entries (without their count), kept as they are. */
  readonly exportEntries: Uint8Array;
  /** Functions whose reference the module takes outside code (element segments, global initializers). */
  readonly referencedFuncs: ReadonlySet<number>;
  /** Whether those references can reach another instance (sharesReferences). */
  readonly sharesReferences: boolean;
}

/** The import section, checked against the policy, with its memory and tables capped. */
interface ImportScan {
  readonly imports: ModuleImport[];
  readonly funcTypes: number[];
  readonly globals: number;
  readonly memory: Limits | null;
}

function readImportSection(
  body: Uint8Array,
  types: TypeTable,
  caps: Caps,
  tables: TableCaps,
  policy: ImportPolicy,
  work: Work,
  rewritten: Map<number, Uint8Array>,
  sharedGas: boolean,
): ImportScan {
  const scan = {
    imports: [] as ModuleImport[],
    funcTypes: [] as number[],
    globals: 0,
    memory: null as Limits | null,
  };
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const n = r.u32();
  limit(n, MODULE_LIMITS.imports, 'imports');
  w.u32(n);
  for (let i = 0; i < n; i++) {
    work.add(1);
    const module = r.name();
    const name = r.name();
    const kindByte = r.u8();
    const kind = KINDS[kindByte];
    if (kind === undefined) throw new ModuleFormatError(`unsupported import kind ${kindByte}`);
    w.name(module).name(name).u8(kindByte);
    let signature: string | undefined;
    if (kind === 'func') {
      const typeIdx = r.u32();
      signature = types.signatures[typeIdx];
      if (signature === undefined) throw new ModuleFormatError('import type index out of range');
      w.u32(typeIdx);
      scan.funcTypes.push(typeIdx);
    } else if (kind === 'table') {
      const refType = readRefType(r, 'table element');
      const limits = tables.add(readLimits(r, 'table'));
      w.u8(refType);
      writeLimits(w, limits);
    } else if (kind === 'memory') {
      if (scan.memory !== null) throw new ModuleFormatError('multiple memories are not supported');
      scan.memory = capLimits(readLimits(r, 'memory'), caps.memoryPages, 'memory');
      writeLimits(w, scan.memory);
    } else {
      const start = r.pos;
      readGlobalType(r);
      w.bytes(body.subarray(start, r.pos));
      scan.globals++;
    }
    // The shared counter importGasGlobal added (a source module importing from `__helm…` was
    // refused there): neither the policy's nor the module's import.
    if (sharedGas && module === SHARED_GAS_MODULE && name === SHARED_GAS_NAME && kind === 'global') continue;
    const imp: ModuleImport =
      signature === undefined ? { module, name, kind } : { module, name, kind, signature };
    if (!policy(imp)) {
      throw new ImportViolationError(`import ${module}.${name} (${kind}) is not provided by the sandbox`);
    }
    scan.imports.push(imp);
  }
  rewritten.set(2, w.toBytes());
  return scan;
}

/** The type index of every function: the imported ones, then the function section's. */
function readFunctionSection(
  body: Uint8Array | undefined,
  importFuncTypes: number[],
  work: Work,
): Int32Array {
  if (body === undefined) return Int32Array.from(importFuncTypes);
  const r = new ByteReader(body);
  const n = r.u32();
  const importedFuncs = importFuncTypes.length;
  limit(importedFuncs + n, MODULE_LIMITS.functions, 'functions');
  const all = new Int32Array(importedFuncs + n);
  all.set(importFuncTypes);
  for (let i = 0; i < n; i++) all[importedFuncs + i] = r.u32(); // valid module: the index is in range
  work.add(n);
  return all;
}

/** The table section with every table capped (rewritten). */
function capTableSection(body: Uint8Array, tables: TableCaps, work: Work): Uint8Array {
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const n = r.u32();
  limit(tables.max.length + n, MODULE_LIMITS.tables, 'tables');
  w.u32(n);
  for (let i = 0; i < n; i++) {
    w.u8(readRefType(r, 'table element'));
    writeLimits(w, tables.add(readLimits(r, 'table')));
  }
  work.add(n);
  return w.toBytes();
}

/** The memory section with its memory capped; returns the rewritten section and the limits. */
function capMemorySection(
  body: Uint8Array,
  imported: Limits | null,
  caps: Caps,
): { section: Uint8Array; memory: Limits | null } {
  const r = new ByteReader(body);
  const n = r.u32();
  if (n + (imported === null ? 0 : 1) > 1) throw new ModuleFormatError('multiple memories are not supported');
  const w = new ByteWriter().u32(n);
  let memory = imported;
  if (n === 1) {
    memory = capLimits(readLimits(r, 'memory'), caps.memoryPages, 'memory');
    writeLimits(w, memory);
  }
  return { section: w.toBytes(), memory };
}

/** Globals: parsed for their types and initializers; the module's are kept as they are. */
function readGlobalSection(
  body: Uint8Array | undefined,
  importedGlobals: number,
  work: Work,
  refs: Set<number>,
): { count: number; entries: Uint8Array } {
  if (body === undefined) {
    limit(importedGlobals, MODULE_LIMITS.globals, 'globals');
    return { count: 0, entries: new Uint8Array(0) };
  }
  const r = new ByteReader(body);
  const count = r.u32();
  limit(importedGlobals + count, MODULE_LIMITS.globals, 'globals');
  const start = r.pos;
  for (let i = 0; i < count; i++) {
    readGlobalType(r);
    constExprRefs(r, refs);
  }
  work.add(count);
  return { count, entries: body.subarray(start, r.pos) };
}

/** Exports: kept as they are; function exports carry their signature; reserved names refused. */
function readExportSection(
  body: Uint8Array | undefined,
  types: TypeTable,
  funcTypes: Int32Array,
  work: Work,
): { exports: ModuleExport[]; funcs: Set<number>; count: number; entries: Uint8Array } {
  const scan = {
    exports: [] as ModuleExport[],
    funcs: new Set<number>(),
    count: 0,
    entries: new Uint8Array(0) as Uint8Array,
  };
  if (body === undefined) return scan;
  const r = new ByteReader(body);
  scan.count = r.u32();
  limit(scan.count, MODULE_LIMITS.exports, 'exports');
  const start = r.pos;
  for (let i = 0; i < scan.count; i++) {
    const name = r.name();
    const kind = KINDS[r.u8()] as ImportKind; // valid module: kind is in range
    const index = r.u32();
    if (name.startsWith(RESERVED_PREFIX)) throw new ModuleFormatError(`export name ${name} is reserved`);
    if (kind === 'func') {
      scan.funcs.add(index);
      const signature = types.signatures[funcTypes[index] as number] as string;
      scan.exports.push({ name, kind, signature });
    } else scan.exports.push({ name, kind });
  }
  work.add(scan.count);
  scan.entries = body.subarray(start, r.pos);
  return scan;
}

/**
 * Reads, checks and caps every section before the code (types, imports, functions, tables,
 * memory, globals, elements, data, exports), in the order the checks have always run; rewritten
 * sections go to `rewritten` (by section id).
 */
function readDeclarations(
  sections: ReadonlyMap<number, Uint8Array>,
  caps: Caps,
  policy: ImportPolicy,
  work: Work,
  rewritten: Map<number, Uint8Array>,
  sharedGas = false,
): Declarations {
  const typeBody = sections.get(1);
  const types: TypeTable =
    typeBody === undefined
      ? { signatures: [], paramCounts: [] }
      : readTypeSection(new ByteReader(typeBody), work);
  const tables = new TableCaps(caps);
  const importBody = sections.get(2);
  const imported: ImportScan =
    importBody === undefined
      ? { imports: [], funcTypes: [], globals: 0, memory: null }
      : readImportSection(importBody, types, caps, tables, policy, work, rewritten, sharedGas);
  const funcTypes = readFunctionSection(sections.get(3), imported.funcTypes, work);
  const tableBody = sections.get(4);
  if (tableBody !== undefined) rewritten.set(4, capTableSection(tableBody, tables, work));
  let memory = imported.memory;
  const memBody = sections.get(5);
  if (memBody !== undefined) {
    const capped = capMemorySection(memBody, memory, caps);
    memory = capped.memory;
    rewritten.set(5, capped.section);
  }
  const refs = new Set<number>();
  const globals = readGlobalSection(sections.get(6), imported.globals, work, refs);
  const elemBody = sections.get(9);
  if (elemBody !== undefined) readElementSection(new ByteReader(elemBody), work, refs);
  const dataBody = sections.get(11);
  if (dataBody !== undefined) readDataSection(new ByteReader(dataBody), work);
  const exported = readExportSection(sections.get(7), types, funcTypes, work);
  return {
    types,
    imports: imported.imports,
    importedGlobals: imported.globals,
    funcTypes,
    importedFuncs: imported.funcTypes.length,
    tables,
    memory,
    definedGlobals: globals.count,
    globalEntries: globals.entries,
    exports: exported.exports,
    exportedFuncs: exported.funcs,
    exportCount: exported.count,
    exportEntries: exported.entries,
    referencedFuncs: refs,
    sharesReferences: sharesReferences(imported.imports, exported.exports),
  };
}

/**
 * Whether another instance can obtain a reference to one of this module's functions: the module
 * imports or exports a table or a global, or a function whose type has a reference. (In a
 * component, core instances share tables: a function reached that way is called by another
 * instance's `call_indirect`, which pre-pays only the *caller's* module maximum.)
 */
function sharesReferences(imports: readonly ModuleImport[], exports: readonly ModuleExport[]): boolean {
  const shares = (x: { kind: string; signature?: string }): boolean =>
    x.kind === 'table' || x.kind === 'global' || (x.signature?.includes('ref') ?? false);
  return imports.some(shares) || exports.some(shares);
}

/** The code section: where every body is, and what the analysis pass found in each. */
interface CodeScan {
  readonly reader: ByteReader;
  readonly bodyCount: number;
  readonly bodyStart: Int32Array;
  readonly bodyEnd: Int32Array;
  readonly hasLoop: Uint8Array;
  readonly hasBulk: Uint8Array;
  /** Cost of every body's function-level region (§5). */
  readonly cost: Float64Array;
  /** NaN-producing float instructions in the module: bit 0 f32, bit 1 f64. */
  readonly nan: number;
}

/** Locates every body (refusing one that could not fit after instrumentation), then analyzes each. */
function analyzeCode(codeBody: Uint8Array, importedFuncs: number, work: Work): CodeScan {
  const reader = new ByteReader(codeBody);
  const bodyCount = reader.u32();
  const bodyStart = new Int32Array(bodyCount);
  const bodyEnd = new Int32Array(bodyCount);
  for (let i = 0; i < bodyCount; i++) {
    const size = reader.u32();
    if (size > MODULE_LIMITS.instrumentedBodyBytes) {
      // instrumentation never shrinks a body: refuse before doing the work
      throw new ModuleFormatError(
        `function ${importedFuncs + i} (${size} bytes) exceeds ${MODULE_LIMITS.instrumentedBodyBytes} bytes after instrumentation (limit ${MODULE_LIMITS.instrumentedBodyBytes})`,
      );
    }
    bodyStart[i] = reader.pos;
    reader.skip(size);
    bodyEnd[i] = reader.pos;
  }
  const hasLoop = new Uint8Array(bodyCount);
  const hasBulk = new Uint8Array(bodyCount);
  const cost = new Float64Array(bodyCount);
  let nan = 0;
  for (let i = 0; i < bodyCount; i++) {
    const info = analyzeBody(reader.reset(bodyStart[i] as number, bodyEnd[i] as number));
    work.add(info.instructions + 1);
    hasLoop[i] = info.hasLoop ? 1 : 0;
    hasBulk[i] = info.bulk ? 1 : 0;
    cost[i] = info.cost;
    nan |= info.nan;
  }
  return { reader, bodyCount, bodyStart, bodyEnd, hasLoop, hasBulk, cost, nan };
}

/** Indices of the appended globals. */
interface AppendedGlobals {
  readonly gas: number;
  readonly failed: number;
  readonly tmp: number;
}

/**
 * Appended globals: gas counter (i64; not with `sharedGas`, whose counter is the imported global
 * `sharedGas`), grow-failed flag (i32) and a scratch i32; and their exports, plus `__helm_start`.
 */
function appendGlobalsAndExports(
  decl: Declarations,
  startFunc: number | null,
  rewritten: Map<number, Uint8Array>,
  sharedGas: number | null,
): AppendedGlobals {
  const next = decl.importedGlobals + decl.definedGlobals;
  const gas = sharedGas ?? next;
  const failed = sharedGas === null ? next + 1 : next;
  const g: AppendedGlobals = { gas, failed, tmp: failed + 1 };
  const gw = new ByteWriter()
    .u32(decl.definedGlobals + (sharedGas === null ? 3 : 2))
    .bytes(decl.globalEntries);
  if (sharedGas === null) gw.u8(I64).u8(0x01).u8(OP_I64_CONST).u8(0).u8(OP_END);
  gw.u8(I32).u8(0x01).u8(OP_I32_CONST).u8(0).u8(OP_END);
  gw.u8(I32).u8(0x01).u8(OP_I32_CONST).u8(0).u8(OP_END);
  rewritten.set(6, gw.toBytes());

  const ew = new ByteWriter()
    .u32(decl.exportCount + 2 + (startFunc === null ? 0 : 1))
    .bytes(decl.exportEntries);
  ew.name(GAS_EXPORT).u8(0x03).u32(g.gas);
  ew.name(GROW_FAILED_EXPORT).u8(0x03).u32(g.failed);
  if (startFunc !== null) ew.name(START_EXPORT).u8(0x00).u32(startFunc);
  rewritten.set(7, ew.toBytes());
  return g;
}

/** The appended functions: their bodies, and the call sequences of the NaN helpers (empty if absent). */
interface AppendedFunctions {
  readonly bodies: Uint8Array[];
  readonly canon32: Uint8Array;
  readonly canon64: Uint8Array;
}

/**
 * Appended types and functions: the NaN helpers `(f32) -> f32` and `(f64) -> f64`, if the module
 * needs them (`nan`: bit 0 f32, bit 1 f64).
 */
function appendFunctions(
  sections: ReadonlyMap<number, Uint8Array>,
  decl: Declarations,
  nan: number,
  rewritten: Map<number, Uint8Array>,
): AppendedFunctions {
  const first = decl.funcTypes.length;
  const typeCount = decl.types.signatures.length;
  const newTypes: Uint8Array[] = [];
  const newFuncs: Uint8Array[] = [];
  const bodies: Uint8Array[] = [];
  const callTo = (index: number): Uint8Array => new ByteWriter().u8(OP_CALL).u32(index).toBytes();
  let canon32: Uint8Array = new Uint8Array(0);
  let canon64: Uint8Array = new Uint8Array(0);
  for (const [bit, width, valType] of [
    [1, 32, 0x7d],
    [2, 64, 0x7c],
  ] as const) {
    if ((nan & bit) === 0) continue;
    const call = callTo(first + bodies.length);
    if (width === 32) canon32 = call;
    else canon64 = call;
    newFuncs.push(new ByteWriter().u32(typeCount + newTypes.length).toBytes());
    newTypes.push(Uint8Array.of(0x60, 0x01, valType, 0x01, valType));
    bodies.push(canonHelperBody(width));
  }
  if (bodies.length > 0) {
    rewritten.set(1, appendToVector(sections.get(1), newTypes));
    rewritten.set(3, appendToVector(sections.get(3), newFuncs));
  }
  return { bodies, canon32, canon64 };
}

/**
 * Which bodies charge themselves (a loop, exported, or the start function) and what a call
 * pre-pays for each of the others: its cost (§5).
 */
function prepayments(
  code: CodeScan,
  decl: Declarations,
  startFunc: number | null,
): { selfCharges: Uint8Array; prepay: Float64Array; maxPrepay: number } {
  const selfCharges = new Uint8Array(code.bodyCount);
  selfCharges.set(code.hasLoop);
  for (const f of decl.exportedFuncs) if (f >= decl.importedFuncs) selfCharges[f - decl.importedFuncs] = 1;
  if (startFunc !== null && startFunc >= decl.importedFuncs) selfCharges[startFunc - decl.importedFuncs] = 1;
  // A function another instance can call through a shared table is never pre-paid: that caller's
  // call_indirect pre-pays its own module's maximum, not this one's (sandbox.md §5).
  if (decl.sharesReferences)
    for (const f of decl.referencedFuncs)
      if (f >= decl.importedFuncs) selfCharges[f - decl.importedFuncs] = 1;
  const prepay = new Float64Array(code.bodyCount);
  let maxPrepay = 0;
  for (let i = 0; i < code.bodyCount; i++) {
    if (selfCharges[i] === 1) continue;
    prepay[i] = code.cost[i] as number;
    maxPrepay = Math.max(maxPrepay, prepay[i] as number);
  }
  return { selfCharges, prepay, maxPrepay };
}

/**
 * Writes the instrumented module: every section before the code (rewritten or as it was), the
 * code section with each body rewritten in place and the helpers appended, then the data section.
 */
function assemble(
  sourceBytes: number,
  sections: ReadonlyMap<number, Uint8Array>,
  rewritten: ReadonlyMap<number, Uint8Array>,
  code: CodeScan,
  decl: Declarations,
  selfCharges: Uint8Array,
  helperBodies: readonly Uint8Array[],
  m: ModuleContext,
  work: Work,
): Uint8Array {
  const budget = m.budget;
  const result = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  // Sized exactly (typical growth is under 3×) so that compact() needs no copy; pages never
  // written are never committed.
  result.reserveExact(3 * sourceBytes + 4096);
  for (const id of SECTION_ORDER) {
    if (id === 10) break;
    const body = rewritten.get(id) ?? sections.get(id);
    if (body !== undefined) result.u8(id).u32(body.length).bytes(body);
  }
  result.u8(10);
  // (size guesses: as the output buffer's, 3 × the source)
  const codeGuess = 3 * code.reader.bytes.length;
  const codeAt = result.beginSized(codeGuess);
  result.u32(code.bodyCount + helperBodies.length);
  const importedFuncs = decl.importedFuncs;
  for (let i = 0; i < code.bodyCount; i++) {
    const paramCount = decl.types.paramCounts[decl.funcTypes[importedFuncs + i] as number] as number;
    const guess = 3 * ((code.bodyEnd[i] as number) - (code.bodyStart[i] as number));
    const at = result.beginSized(guess);
    const units = instrumentBody(
      i,
      code.reader.reset(code.bodyStart[i] as number, code.bodyEnd[i] as number),
      paramCount,
      code.hasBulk[i] === 1,
      selfCharges[i] === 1,
      m,
      result,
    );
    const size = result.endSized(at, guess);
    if (size > MODULE_LIMITS.instrumentedBodyBytes) throw tooBig(importedFuncs + i, size);
    work.add(units);
    if (result.length > budget) throw overBudget(budget);
  }
  for (const helper of helperBodies) result.u32(helper.length).bytes(helper);
  result.endSized(codeAt, codeGuess);
  const data = sections.get(11);
  if (data !== undefined) result.u8(11).u32(data.length).bytes(data);
  if (result.length > budget) throw overBudget(budget);
  return result.compact();
}

/**
 * The steps of instrumentation, in order: split the sections (the start section becomes the
 * `__helm_start` export), read and cap the declarations (import policy, memory/table caps, module
 * limits), analyze every body, append the metering globals, exports and helper functions, decide
 * the pre-payments, then rewrite every body into the output.
 */
function instrument(source: Uint8Array, options: InstrumentOptions): InstrumentedModule {
  let bytes: Uint8Array;
  let sharedGas: number | null = null;
  let prepass = 0;
  if (options.sharedGas === true) {
    // A component's core module: first made to import the run's one counter (gas-import.ts).
    const shared = importGasGlobal(source);
    bytes = shared.bytes;
    sharedGas = shared.gas;
    prepass = shared.work;
  } else bytes = source;
  const work = new Work(workBudget(bytes.length));
  work.add(prepass); // (at most one unit per source byte: still within the budget's 8)
  const canonicalizeNaN = options.canonicalizeNaN ?? true;
  const caps: Caps = {
    memoryPages: Math.min(options.maxMemoryPages, MODULE_LIMITS.memoryPages),
    tableElements: Math.min(options.maxTableElements, MODULE_LIMITS.tableElements),
    tableElementsTotal: MODULE_LIMITS.tableElementsTotalFactor * options.maxTableElements,
  };
  const sections = new Map<number, Uint8Array>();
  for (const s of splitSections(bytes, work)) sections.set(s.id, s.body);
  // A start function would run inside instantiation, before the host can set the gas budget:
  // the section is removed and the function exported as __helm_start, which the host calls right
  // after instantiating and setting the budget (same order of effects as the start section).
  const startBody = sections.get(8);
  const startFunc = startBody === undefined ? null : new ByteReader(startBody).u32();
  sections.delete(8);

  const rewritten = new Map<number, Uint8Array>();
  const decl = readDeclarations(sections, caps, options.importPolicy, work, rewritten, sharedGas !== null);
  const code = analyzeCode(sections.get(10) ?? new Uint8Array([0]), decl.importedFuncs, work);
  const nan = canonicalizeNaN ? code.nan : 0;
  const globals = appendGlobalsAndExports(decl, startFunc, rewritten, sharedGas);
  const helpers = appendFunctions(sections, decl, nan, rewritten);
  const { selfCharges, prepay, maxPrepay } = prepayments(code, decl, startFunc);
  const m: ModuleContext = {
    gas: globals.gas,
    chargeTail: chargeTail(globals.gas),
    importedFuncs: decl.importedFuncs,
    prepay,
    maxPrepay,
    canonicalizeNaN,
    gens: [
      helpers.canon32,
      helpers.canon64,
      growRecordSequence(globals.failed, globals.tmp),
      undefined,
      undefined,
      undefined,
      undefined,
    ],
    memoryMax: decl.memory === null ? -1 : (decl.memory.max as number),
    tableMax: decl.tables.max,
    budget: outputBudget(bytes.length),
  };
  const out = assemble(bytes.length, sections, rewritten, code, decl, selfCharges, helpers.bodies, m, work);
  const memory = decl.memory === null ? null : { min: decl.memory.min, max: decl.memory.max as number };
  return {
    bytes: out,
    imports: decl.imports,
    exports: decl.exports,
    memory,
    functionCount: decl.funcTypes.length,
    // without NaN-producing code both are the same bytes
    canonicalizeNaN: canonicalizeNaN || code.nan === 0,
    work: work.n,
  };
}

/** What a re-loaded instrumented module declares (for the verified re-load path). */
export interface InstrumentedShape {
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** Maximum pages of its memory (null without memory). */
  readonly memoryMaxPages: number | null;
}

/**
 * Reads the imports, exports and memory limits of instrumented bytes produced earlier by
 * instrumentModule (e.g. cached on disk under their digest), without instrumenting them again.
 * The caller has validated the bytes and checked their digest against the pinned module id.
 */
export function describeInstrumented(bytes: Uint8Array): InstrumentedShape {
  const work = new Work(workBudget(bytes.length));
  const byId = new Map<number, Uint8Array>();
  for (const s of splitSections(bytes, work)) byId.set(s.id, s.body);
  const typeBody = byId.get(1);
  const types = typeBody === undefined ? [] : readTypeSection(new ByteReader(typeBody), work).signatures;
  const imports: ModuleImport[] = [];
  const funcTypes: number[] = [];
  let memoryMaxPages: number | null = null;
  const importBody = byId.get(2);
  if (importBody !== undefined) {
    const r = new ByteReader(importBody);
    for (let n = r.u32(); n > 0; n--) {
      const module = r.name();
      const name = r.name();
      const kind = KINDS[r.u8()] as ImportKind; // validated
      if (kind === 'func') {
        const typeIdx = r.u32();
        funcTypes.push(typeIdx);
        imports.push({ module, name, kind, signature: types[typeIdx] as string });
        continue;
      }
      if (kind === 'table') r.u8();
      if (kind === 'table' || kind === 'memory') {
        const limits = readLimits(r, kind);
        if (kind === 'memory') memoryMaxPages = limits.max;
      } else readGlobalType(r);
      imports.push({ module, name, kind });
    }
  }
  const funcBody = byId.get(3);
  if (funcBody !== undefined) {
    const r = new ByteReader(funcBody);
    for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
  }
  const memBody = byId.get(5);
  if (memBody !== undefined) {
    const r = new ByteReader(memBody);
    if (r.u32() === 1) memoryMaxPages = readLimits(r, 'memory').max;
  }
  const exports: ModuleExport[] = [];
  const exportBody = byId.get(7);
  if (exportBody !== undefined) {
    const r = new ByteReader(exportBody);
    for (let n = r.u32(); n > 0; n--) {
      const name = r.name();
      const kind = KINDS[r.u8()] as ImportKind;
      const index = r.u32();
      if (kind === 'func')
        exports.push({ name, kind, signature: types[funcTypes[index] as number] as string });
      else exports.push({ name, kind });
    }
  }
  return { imports, exports, memoryMaxPages };
}

/**
 * Checks instrumented bytes (e.g. cached on disk) against the same module limits and caps as
 * registration: every limit of MODULE_LIMITS, and every memory and table already written with a
 * maximum within the caps — the form instrumentModule always produces (capping them again must
 * change nothing). A start section (which would run before the budget is set) is refused too.
 * Throws ModuleFormatError.
 */
export function checkInstrumentedLimits(
  bytes: Uint8Array,
  options: { readonly maxMemoryPages: number; readonly maxTableElements: number },
): void {
  const work = new Work(workBudget(bytes.length));
  const caps: Caps = {
    memoryPages: Math.min(options.maxMemoryPages, MODULE_LIMITS.memoryPages),
    tableElements: Math.min(options.maxTableElements, MODULE_LIMITS.tableElements),
    tableElementsTotal: MODULE_LIMITS.tableElementsTotalFactor * options.maxTableElements,
  };
  const sections = new Map<number, Uint8Array>();
  for (const s of splitSections(bytes, work)) sections.set(s.id, s.body);
  if (sections.has(8)) throw new ModuleFormatError('a start section (instrumented modules have none)');
  // The exports carry the metering names (reserved in a source module): only their count is checked.
  const exportBody = sections.get(7);
  if (exportBody !== undefined) limit(new ByteReader(exportBody).u32(), MODULE_LIMITS.exports + 3, 'exports');
  sections.delete(7);
  const rewritten = new Map<number, Uint8Array>();
  readDeclarations(sections, caps, () => true, work, rewritten);
  for (const [id, body] of rewritten) {
    const original = sections.get(id);
    const same =
      original !== undefined && original.length === body.length && original.every((b, i) => body[i] === b);
    if (!same)
      throw new ModuleFormatError(
        `section ${id} is not within the caps (a limit without a maximum, or above the cap)`,
      );
  }
}
