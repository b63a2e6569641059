// Load-time instrumentation: parse a core module, enforce the import policy and the memory/table
// caps, and inject deterministic gas metering. The output is what gets hashed, compiled and run.
//
// Gas model (normative text in docs/spec/sandbox.md §5): every instruction costs 1. Self-charging
// functions (with loops, exported, start) charge their function-level region at entry and each loop
// body at its header; loop-free internal functions are pre-paid by their call sites and charge only
// the pre-payments for their own callees, once, at the innermost block enclosing those calls.
// Charging subtracts from a module-internal i64 global (or a local mirror in loop functions) and
// executes `unreachable` when the result is negative — no host calls on the hot path.
import {
  OP_BLOCK,
  OP_BR,
  OP_BR_IF,
  OP_BR_TABLE,
  OP_CALL,
  OP_ELSE,
  OP_END,
  OP_GLOBAL_GET,
  OP_GLOBAL_SET,
  OP_I32_CONST,
  OP_I32_EQ,
  OP_I64_CONST,
  OP_I64_LT_S,
  OP_I64_SUB,
  OP_IF,
  OP_LOOP,
  OP_MEMORY_GROW,
  OP_RETURN,
  OP_UNREACHABLE,
  readInstruction,
} from './opcodes.js';
import { ByteReader, ByteWriter, ModuleFormatError } from './wasm-binary.js';

/** Export names the instrumenter adds; a module that already uses the prefix is rejected. */
export const GAS_EXPORT = '__helm_gas';
export const GROW_FAILED_EXPORT = '__helm_grow_failed';
export const START_EXPORT = '__helm_start';
const RESERVED_PREFIX = '__helm_';

export const WASM_PAGE_BYTES = 65536;

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
}

/** Decides whether an import is provided by the host; `false` rejects the module (SANDBOX_VIOLATION). */
export type ImportPolicy = (imp: ModuleImport) => boolean;

export interface InstrumentOptions {
  readonly maxMemoryPages: number;
  readonly maxTableElements: number;
  readonly importPolicy: ImportPolicy;
}

export interface InstrumentedModule {
  readonly bytes: Uint8Array;
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** Effective memory limits in pages after capping (null if the module has no memory). */
  readonly memory: { readonly min: number; readonly max: number } | null;
  readonly functionCount: number;
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

interface Limits {
  min: number;
  max: number | null;
}

function readLimits(r: ByteReader, what: 'memory' | 'table'): Limits {
  const flags = r.u8();
  if (flags === 0x00) return { min: r.u32(), max: null };
  if (flags === 0x01) return { min: r.u32(), max: r.u32() };
  if (what === 'memory' && (flags === 0x02 || flags === 0x03)) {
    throw new ModuleFormatError('shared memory is not supported');
  }
  throw new ModuleFormatError(`unsupported ${what} limits flags 0x${flags.toString(16)}`);
}

/** A vector section with one more entry appended (the section may be absent). */
function appendToVector(section: Uint8Array | undefined, entry: Uint8Array | readonly number[]): Uint8Array {
  if (section === undefined) return new ByteWriter().u32(1).bytes(entry).toBytes();
  const r = new ByteReader(section);
  const n = r.u32();
  return new ByteWriter()
    .u32(n + 1)
    .bytes(section.subarray(r.pos))
    .bytes(entry)
    .toBytes();
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

function readTypeSection(r: ByteReader): string[] {
  const types: string[] = [];
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    if (r.u8() !== 0x60) throw new ModuleFormatError('unsupported type form (only function types)');
    const params: string[] = [];
    const results: string[] = [];
    for (let j = r.u32(); j > 0; j--) params.push(readValTypeName(r));
    for (let j = r.u32(); j > 0; j--) results.push(readValTypeName(r));
    types.push(`${params.join(',')}->${results.join(',')}`);
  }
  return types;
}

interface Section {
  readonly id: number;
  readonly body: Uint8Array;
}

function splitSections(bytes: Uint8Array): Section[] {
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
    if (id === 0) continue; // custom sections are dropped
    if (!SECTION_ORDER.includes(id)) throw new ModuleFormatError(`unsupported section id ${id}`);
    sections.push({ id, body });
  }
  return sections;
}

const OP_LOCAL_GET_B = 0x20;
const OP_LOCAL_SET_B = 0x21;
const OP_LOCAL_TEE_B = 0x22;
const OP_I64_CONST_0 = [OP_I64_CONST, 0x00];

interface Globals {
  readonly gas: number;
  readonly failed: number;
  readonly tmp: number;
  /** Index of the appended charge helper function. */
  readonly chargeFunc: number;
}

/**
 * Charge `cost` on the gas global through the appended helper function (loop-free functions: one
 * charge per call). A call keeps the metered function small, so the engine still inlines it.
 */
function chargeGlobal(w: ByteWriter, g: Globals, cost: number): void {
  w.u8(OP_I64_CONST).s64(BigInt(cost));
  w.u8(OP_CALL).u32(g.chargeFunc);
}

/** Body of the helper `(func (param i64))`: global -= param; trap if negative. */
function chargeHelperBody(g: Globals): Uint8Array {
  const w = new ByteWriter().u32(0); // no locals
  w.u8(OP_GLOBAL_GET).u32(g.gas);
  w.u8(OP_LOCAL_GET_B).u32(0);
  w.u8(OP_I64_SUB);
  w.u8(OP_GLOBAL_SET).u32(g.gas);
  w.u8(OP_GLOBAL_GET).u32(g.gas);
  w.bytes(OP_I64_CONST_0).u8(OP_I64_LT_S);
  w.u8(OP_IF).u8(0x40).u8(OP_UNREACHABLE).u8(OP_END);
  w.u8(OP_END);
  return w.toBytes();
}

/** Charge `cost` on the function's gas local; on exhaustion publish it to the global, then trap. */
function chargeLocal(w: ByteWriter, g: Globals, local: number, cost: number): void {
  w.u8(OP_LOCAL_GET_B).u32(local);
  w.u8(OP_I64_CONST).s64(BigInt(cost));
  w.u8(OP_I64_SUB);
  w.u8(OP_LOCAL_TEE_B).u32(local);
  w.bytes(OP_I64_CONST_0).u8(OP_I64_LT_S);
  w.u8(OP_IF).u8(0x40);
  flush(w, g, local);
  w.u8(OP_UNREACHABLE).u8(OP_END);
}

/** Publishes the gas local to the global (stack-neutral, idempotent). */
function flush(w: ByteWriter, g: Globals, local: number): void {
  w.u8(OP_LOCAL_GET_B).u32(local).u8(OP_GLOBAL_SET).u32(g.gas);
}

/** Reloads the gas local from the global (after a call, which charged the global). */
function reload(w: ByteWriter, g: Globals, local: number): void {
  w.u8(OP_GLOBAL_GET).u32(g.gas).u8(OP_LOCAL_SET_B).u32(local);
}

function growSequence(w: ByteWriter, g: Globals): void {
  // memory.grow is emitted by the caller; record a failed grow (−1) in the exported flag.
  w.u8(OP_GLOBAL_SET).u32(g.tmp);
  w.u8(OP_GLOBAL_GET).u32(g.failed);
  w.u8(OP_GLOBAL_GET).u32(g.tmp);
  w.u8(OP_I32_CONST).s32(-1);
  w.u8(OP_I32_EQ);
  w.u8(0x72); // i32.or
  w.u8(OP_GLOBAL_SET).u32(g.failed);
  w.u8(OP_GLOBAL_GET).u32(g.tmp);
}

type Piece =
  | Uint8Array
  | { readonly region: number }
  | { readonly slot: number }
  | { readonly flush: true }
  | { readonly reload: true }
  | { readonly grow: true };

const CALLS = new Set([0x10, 0x11]);
const TAIL_CALLS = new Set([0x12, 0x13]);

/** What the instrumenter needs to know about every function before rewriting any. */
export interface FunctionInfo {
  /** Contains a loop: uses the local counter scheme and charges its own regions. */
  readonly hasLoop: boolean;
  /** Instructions of the function-level region (all instructions outside loop bodies). */
  readonly cost: number;
}

export function analyzeBody(body: Uint8Array): FunctionInfo {
  const r = new ByteReader(body);
  for (let groups = r.u32(); groups > 0; groups--) {
    r.u32();
    readValTypeName(r);
  }
  const control: boolean[] = [false];
  let loopDepth = 0;
  let cost = 0;
  let loops = false;
  while (control.length > 0) {
    const op = readInstruction(r);
    if (op === OP_END) {
      if (control.pop() === true) loopDepth--;
      else if (loopDepth === 0) cost++;
      continue;
    }
    if (loopDepth === 0) cost++;
    if (op === OP_LOOP) {
      loops = true;
      loopDepth++;
      control.push(true);
    } else if (op === OP_BLOCK || op === OP_IF) control.push(false);
  }
  return { hasLoop: loops, cost };
}

/** Per-body rewriting context. */
interface BodyContext {
  /** Charges its own function-level region at entry (loop functions, exports, the start function). */
  readonly selfCharging: boolean;
  /** Gas a call site pre-pays for its callee (the callee's cost if the callee does not charge itself). */
  readonly prepay: (op: number, body: Uint8Array, start: number) => number;
}

/** Does the body contain a loop? (decides between the global and the local metering scheme) */
function hasLoop(body: Uint8Array, start: number): boolean {
  const r = new ByteReader(body, start);
  while (!r.done) if (readInstruction(r) === OP_LOOP) return true;
  return false;
}

/** Label depths named by a br/br_if/br_table that starts at `pos`. */
function branchTargets(body: Uint8Array, pos: number): number[] {
  const r = new ByteReader(body, pos);
  const op = r.u8();
  if (op !== OP_BR_TABLE) return [r.u32()];
  const n = r.u32();
  return Array.from({ length: n + 1 }, () => r.u32());
}

/**
 * Rewrites one function body (locals + expression) with metering points.
 * Loop-free functions charge their whole body on the global at entry (one check per call).
 * Functions with loops get one i64 local and keep the counter in it — charged at entry and at every loop
 * header — and publish it to the global before anything that leaves the function or calls out
 * (call, call_indirect, return, tail calls, branches to the function label, the final end);
 * after a call returns the local is reloaded from the global.
 */
function instrumentBody(body: Uint8Array, paramCount: number, g: Globals, ctx: BodyContext): Uint8Array {
  const r = new ByteReader(body);
  const groups = r.u32();
  const groupsStart = r.pos;
  let totalLocals = 0;
  for (let i = 0; i < groups; i++) {
    totalLocals += r.u32();
    if (totalLocals > 50_000) throw new ModuleFormatError('too many locals');
    readValTypeName(r);
  }
  const gasLocal = paramCount + totalLocals;
  const localMode = hasLoop(body, r.pos);
  const header = localMode
    ? new ByteWriter()
        .u32(groups + 1)
        .bytes(body.subarray(groupsStart, r.pos))
        .u8(0x01)
        .u8(0x7e)
    : new ByteWriter().u32(groups).bytes(body.subarray(groupsStart, r.pos));
  const pieces: Piece[] = [header.toBytes()];
  const regionCost: number[] = [];
  const regionStack: number[] = [];
  const openRegion = (): void => {
    regionStack.push(regionCost.length);
    pieces.push({ region: regionCost.length });
    regionCost.push(0);
  };
  // Control stack: true for frames opened by `loop` (they own a metering region).
  const control: boolean[] = [false];
  if (localMode) pieces.push({ reload: true });
  openRegion();
  // Pre-paid functions (loop-free, not exported, not start) are paid for by their callers; they
  // charge only what they pre-pay for their own callees, once, at the start of the innermost
  // block enclosing all their call sites (so paths without calls cost no check at all).
  const prepaid = !localMode && !ctx.selfCharging;
  const blockPath: number[] = [0];
  let nextBlock = 1;
  let lca: number[] | null = null;
  let pendingPrepay = 0;
  pieces.push({ slot: 0 });
  let copyFrom = r.pos;
  const cut = (at: number): void => {
    pieces.push(body.subarray(copyFrom, at));
    copyFrom = at;
  };
  const openBlock = (): void => {
    cut(r.pos);
    pieces.push({ slot: nextBlock });
    blockPath.push(nextBlock++);
  };
  while (control.length > 0) {
    const start = r.pos;
    const op = readInstruction(r);
    const current = regionStack[regionStack.length - 1] as number;
    regionCost[current] = (regionCost[current] as number) + 1;
    if (CALLS.has(op) || TAIL_CALLS.has(op)) {
      const p = ctx.prepay(op, body, start);
      if (!prepaid) regionCost[current] = (regionCost[current] as number) + p;
      else {
        pendingPrepay += p;
        const path = blockPath;
        const prev: number[] = lca ?? path;
        let n = 0;
        while (n < prev.length && n < path.length && prev[n] === path[n]) n++;
        lca = path.slice(0, n);
      }
    }
    if (op === OP_LOOP) {
      cut(r.pos);
      control.push(true);
      openRegion();
    } else if (op === OP_BLOCK || op === OP_IF) {
      control.push(false);
      if (prepaid) openBlock();
    } else if (op === OP_ELSE && prepaid && control.length > 1) {
      blockPath.pop();
      openBlock();
    } else if (op === OP_END) {
      if (prepaid) blockPath.pop();
      if (localMode && control.length === 1) {
        cut(start);
        pieces.push({ flush: true });
      }
      if (control.pop() === true) regionStack.pop();
    } else if (op === OP_MEMORY_GROW) {
      cut(r.pos);
      pieces.push({ grow: true });
    } else if (op === OP_ELSE && control.length === 1) {
      r.pos = start;
      r.fail('else outside if');
    } else if (localMode) {
      const leaves =
        op === OP_RETURN ||
        TAIL_CALLS.has(op) ||
        ((op === OP_BR || op === OP_BR_IF || op === OP_BR_TABLE) &&
          branchTargets(body, start).includes(control.length - 1));
      if (CALLS.has(op)) {
        cut(start);
        pieces.push({ flush: true });
        cut(r.pos);
        pieces.push({ reload: true });
      } else if (leaves) {
        cut(start);
        pieces.push({ flush: true });
      }
    }
  }
  if (!r.done) r.fail('trailing bytes after function body');
  cut(r.pos);
  const lcaBlock = lca === null ? -1 : (lca as number[])[(lca as number[]).length - 1];
  const w = new ByteWriter();
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) w.bytes(piece);
    else if ('slot' in piece) {
      if (prepaid && piece.slot === lcaBlock && pendingPrepay > 0) chargeGlobal(w, g, pendingPrepay);
    } else if ('region' in piece) {
      const cost = regionCost[piece.region] as number;
      if (localMode) chargeLocal(w, g, gasLocal, cost);
      else if (!prepaid) chargeGlobal(w, g, cost);
    } else if ('flush' in piece) flush(w, g, gasLocal);
    else if ('reload' in piece) reload(w, g, gasLocal);
    else growSequence(w, g);
  }
  return w.toBytes();
}

/**
 * Instruments a core module. The input must already be a valid module (the caller runs
 * `WebAssembly.validate` first), so every index in the original code refers to original items and
 * the globals appended here are unreachable from guest code.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): InstrumentedModule {
  const sections = splitSections(bytes);
  const byId = new Map<number, Uint8Array>();
  for (const s of sections) byId.set(s.id, s.body);
  // A start function would run inside instantiation, before the host can set the gas budget:
  // the section is removed and the function exported as __helm_start, which the host calls right
  // after instantiating and setting the budget (same order of effects as the start section).
  const startBody = byId.get(8);
  const startFunc = startBody === undefined ? null : new ByteReader(startBody).u32();
  byId.delete(8);

  const typeBody = byId.get(1);
  const types = typeBody === undefined ? [] : readTypeSection(new ByteReader(typeBody));

  const imports: ModuleImport[] = [];
  let importedGlobals = 0;
  let importedFuncs = 0;
  let memoryLimits: Limits | null = null;
  const out = new Map<number, Uint8Array>();

  const importBody = byId.get(2);
  if (importBody !== undefined) {
    const r = new ByteReader(importBody);
    const w = new ByteWriter();
    const n = r.u32();
    w.u32(n);
    for (let i = 0; i < n; i++) {
      const module = r.name();
      const name = r.name();
      const kindByte = r.u8();
      const kind = KINDS[kindByte];
      if (kind === undefined) throw new ModuleFormatError(`unsupported import kind ${kindByte}`);
      w.name(module).name(name).u8(kindByte);
      let signature: string | undefined;
      if (kind === 'func') {
        const typeIdx = r.u32();
        signature = types[typeIdx];
        if (signature === undefined) throw new ModuleFormatError('import type index out of range');
        w.u32(typeIdx);
        importedFuncs++;
      } else if (kind === 'table') {
        const refType = r.u8();
        const limits = capLimits(readLimits(r, 'table'), options.maxTableElements, 'table');
        w.u8(refType);
        writeLimits(w, limits);
      } else if (kind === 'memory') {
        if (memoryLimits !== null) throw new ModuleFormatError('multiple memories are not supported');
        memoryLimits = capLimits(readLimits(r, 'memory'), options.maxMemoryPages, 'memory');
        writeLimits(w, memoryLimits);
      } else {
        const start = r.pos;
        readValTypeName(r);
        r.u8();
        w.bytes(importBody.subarray(start, r.pos));
        importedGlobals++;
      }
      const imp: ModuleImport =
        signature === undefined ? { module, name, kind } : { module, name, kind, signature };
      if (!options.importPolicy(imp)) {
        throw new ImportViolationError(`import ${module}.${name} (${kind}) is not provided by the sandbox`);
      }
      imports.push(imp);
    }
    out.set(2, w.toBytes());
  }

  const funcBody = byId.get(3);
  const paramCounts: number[] = [];
  if (funcBody !== undefined) {
    const r = new ByteReader(funcBody);
    for (let n = r.u32(); n > 0; n--) {
      const sig = types[r.u32()] as string; // valid module: the index is in range
      paramCounts.push(sig.startsWith('->') ? 0 : sig.slice(0, sig.indexOf('->')).split(',').length);
    }
  }
  const definedFuncs = paramCounts.length;

  const tableBody = byId.get(4);
  if (tableBody !== undefined) {
    const r = new ByteReader(tableBody);
    const w = new ByteWriter();
    const n = r.u32();
    w.u32(n);
    for (let i = 0; i < n; i++) {
      w.u8(r.u8());
      writeLimits(w, capLimits(readLimits(r, 'table'), options.maxTableElements, 'table'));
    }
    out.set(4, w.toBytes());
  }

  const memBody = byId.get(5);
  if (memBody !== undefined) {
    const r = new ByteReader(memBody);
    const n = r.u32();
    if (n + (memoryLimits === null ? 0 : 1) > 1)
      throw new ModuleFormatError('multiple memories are not supported');
    const w = new ByteWriter().u32(n);
    if (n === 1) {
      memoryLimits = capLimits(readLimits(r, 'memory'), options.maxMemoryPages, 'memory');
      writeLimits(w, memoryLimits);
    }
    out.set(5, w.toBytes());
  }

  // Globals: append gas (i64), grow-failed flag (i32) and a scratch i32 at the end of the index space.
  const globalBody = byId.get(6);
  const gw = new ByteWriter();
  let definedGlobals = 0;
  let globalRest: Uint8Array = new Uint8Array(0);
  if (globalBody !== undefined) {
    const r = new ByteReader(globalBody);
    definedGlobals = r.u32();
    globalRest = globalBody.subarray(r.pos);
  }
  const gasGlobal = importedGlobals + definedGlobals;
  const failedGlobal = gasGlobal + 1;
  const tmpGlobal = gasGlobal + 2;
  gw.u32(definedGlobals + 3).bytes(globalRest);
  gw.u8(0x7e).u8(0x01).u8(OP_I64_CONST).s64(0n).u8(OP_END);
  gw.u8(0x7f).u8(0x01).u8(OP_I32_CONST).s32(0).u8(OP_END);
  gw.u8(0x7f).u8(0x01).u8(OP_I32_CONST).s32(0).u8(OP_END);
  out.set(6, gw.toBytes());

  // Exports: keep the module's, add the gas counter and the grow-failed flag.
  const exports: ModuleExport[] = [];
  const exportedFuncs = new Set<number>();
  const exportBody = byId.get(7);
  const ew = new ByteWriter();
  let exportRest: Uint8Array = new Uint8Array(0);
  let exportCount = 0;
  if (exportBody !== undefined) {
    const r = new ByteReader(exportBody);
    exportCount = r.u32();
    const start = r.pos;
    for (let i = 0; i < exportCount; i++) {
      const name = r.name();
      const kind = KINDS[r.u8()] as ImportKind; // valid module: kind is in range
      const index = r.u32();
      if (kind === 'func') exportedFuncs.add(index);
      if (name.startsWith(RESERVED_PREFIX)) throw new ModuleFormatError(`export name ${name} is reserved`);
      exports.push({ name, kind });
    }
    exportRest = exportBody.subarray(start, r.pos);
  }
  ew.u32(exportCount + 2 + (startFunc === null ? 0 : 1)).bytes(exportRest);
  ew.name(GAS_EXPORT).u8(0x03).u32(gasGlobal);
  ew.name(GROW_FAILED_EXPORT).u8(0x03).u32(failedGlobal);
  if (startFunc !== null) ew.name(START_EXPORT).u8(0x00).u32(startFunc);
  out.set(7, ew.toBytes());

  // The charge helper: a new function type (i64) -> () and a new function, both appended last.
  const g: Globals = {
    gas: gasGlobal,
    failed: failedGlobal,
    tmp: tmpGlobal,
    chargeFunc: importedFuncs + definedFuncs,
  };
  const helperType = types.length;
  out.set(1, appendToVector(typeBody, [0x60, 0x01, 0x7e, 0x00]));
  out.set(3, appendToVector(funcBody, new ByteWriter().u32(helperType).toBytes()));
  const codeBody = byId.get(10);
  const cw = new ByteWriter();
  if (codeBody !== undefined) {
    const r = new ByteReader(codeBody);
    const n = r.u32();
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < n; i++) bodies.push(r.bytesOf(r.u32()));
    const infos = bodies.map(analyzeBody);
    const selfCharging = (i: number): boolean =>
      (infos[i] as FunctionInfo).hasLoop ||
      exportedFuncs.has(importedFuncs + i) ||
      startFunc === importedFuncs + i;
    let maxPrepay = 0;
    for (let i = 0; i < n; i++)
      if (!selfCharging(i)) maxPrepay = Math.max(maxPrepay, (infos[i] as FunctionInfo).cost);
    const prepay = (op: number, body: Uint8Array, start: number): number => {
      if (op === 0x11 || op === 0x13) return maxPrepay; // indirect: any pre-paid function may be the callee
      const callee = new ByteReader(body, start + 1).u32() - importedFuncs;
      if (callee < 0 || selfCharging(callee)) return 0; // host functions, self-charging callees
      return (infos[callee] as FunctionInfo).cost;
    };
    cw.u32(n + 1);
    for (let i = 0; i < n; i++) {
      const ctx = { selfCharging: selfCharging(i), prepay };
      const instrumented = instrumentBody(bodies[i] as Uint8Array, paramCounts[i] as number, g, ctx);
      cw.u32(instrumented.length).bytes(instrumented);
    }
  } else {
    cw.u32(1);
  }
  const helper = chargeHelperBody(g);
  cw.u32(helper.length).bytes(helper);
  out.set(10, cw.toBytes());

  const result = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  for (const id of SECTION_ORDER) {
    const body = out.get(id) ?? byId.get(id);
    if (body === undefined) continue;
    result.u8(id).u32(body.length).bytes(body);
  }
  const memory = memoryLimits === null ? null : { min: memoryLimits.min, max: memoryLimits.max as number };
  return {
    bytes: result.toBytes(),
    imports,
    exports,
    memory,
    functionCount: importedFuncs + definedFuncs,
  };
}
