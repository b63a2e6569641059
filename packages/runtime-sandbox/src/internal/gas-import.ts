// The first step of instrumenting a component's core module (docs/spec/sandbox.md §5, "Components:
// one counter"): the module is rewritten to import its gas counter, `(import "__helm" "gas"
// (global (mut i64)))`, appended after its own imports, so that every core instance of one run
// charges the same WebAssembly.Global and the first charge that crosses the budget traps,
// whichever instance makes it. (Separate counters settled by the host only at host calls let
// each instance spend the whole remaining budget in between.)
//
// An imported global takes the index after the module's imported globals, so every reference to
// a *defined* global moves up by one: `global.get`/`global.set` in code, `global.get` in global
// initializers, element and data segment offsets and element expressions, and global exports.
// References to imported globals keep their index. A module without defined globals needs no
// renumbering (its code section is copied as it is). The output is again a valid module; the
// instrumenter then meters it with the imported counter instead of appending one.
//
// Linear in the module's size: one pass over every section, each instruction decoded once.

import { SHARED_GAS_MODULE, SHARED_GAS_NAME } from './metering-abi.js';
import {
  IMM,
  OP_END,
  OP_GLOBAL_GET,
  OP_GLOBAL_SET,
  readConstExpr,
  readInstruction,
  readRefType,
} from './opcodes.js';
import { ByteReader, ByteWriter, ModuleFormatError, readLimits } from './wasm-binary.js';

export { SHARED_GAS_MODULE, SHARED_GAS_NAME };

const RESERVED_IMPORT_PREFIX = '__helm';

const KIND_GLOBAL = 0x03;
const I64 = 0x7e;

/**
 * Copies one constant expression (readConstExpr) with a defined global's index moved up by one
 * (a `global.get` index is re-encoded either way).
 */
function copyConstExpr(r: ByteReader, w: ByteWriter, importedGlobals: number): void {
  const from = r.pos;
  if (readConstExpr(r) !== OP_GLOBAL_GET) w.range(r.bytes, from, r.pos);
  else
    w.u8(OP_GLOBAL_GET)
      .u32(IMM.value < importedGlobals ? IMM.value : IMM.value + 1)
      .u8(OP_END);
}

/** The import section with the counter appended; the number of imported globals before it. */
function importSection(body: Uint8Array | undefined): { section: Uint8Array; importedGlobals: number } {
  const w = new ByteWriter();
  let importedGlobals = 0;
  if (body === undefined) w.u32(1);
  else {
    const r = new ByteReader(body);
    const n = r.u32();
    w.u32(n + 1);
    for (let i = 0; i < n; i++) {
      const module = r.name();
      if (module.startsWith(RESERVED_IMPORT_PREFIX))
        throw new ModuleFormatError(`import module name ${module} is reserved`);
      r.name();
      const kind = r.u8();
      if (kind === 0x00) r.u32();
      else if (kind === 0x01) {
        readRefType(r, 'table element');
        readLimits(r, 'table');
      } else if (kind === 0x02) readLimits(r, 'memory');
      else if (kind === KIND_GLOBAL) {
        r.u8();
        r.u8();
        importedGlobals++;
      } else throw new ModuleFormatError(`unsupported import kind ${kind}`);
    }
    w.range(body, lebEnd(body), r.pos); // the entries, as they are
  }
  w.name(SHARED_GAS_MODULE).name(SHARED_GAS_NAME).u8(KIND_GLOBAL).u8(I64).u8(0x01);
  return { section: w.toBytes(), importedGlobals };
}

/** Where a vector's leading count ends. */
function lebEnd(body: Uint8Array): number {
  const r = new ByteReader(body);
  r.u32();
  return r.pos;
}

function globalSection(body: Uint8Array, importedGlobals: number): { section: Uint8Array; count: number } {
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) {
    w.u8(r.u8()).u8(r.u8()); // value type, mutability
    copyConstExpr(r, w, importedGlobals);
  }
  return { section: w.toBytes(), count };
}

function exportSection(body: Uint8Array, importedGlobals: number): Uint8Array {
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    w.name(r.name());
    const kind = r.u8();
    const index = r.u32();
    w.u8(kind).u32(kind === KIND_GLOBAL && index >= importedGlobals ? index + 1 : index);
  }
  return w.toBytes();
}

function elementSection(body: Uint8Array, importedGlobals: number): Uint8Array {
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags > 7) throw new ModuleFormatError(`unsupported element segment flags ${flags}`);
    w.u32(flags);
    if ((flags & 0b011) === 0b010) w.u32(r.u32()); // explicit table index
    if ((flags & 0b001) === 0) copyConstExpr(r, w, importedGlobals); // active: offset
    const usesExprs = (flags & 0b100) !== 0;
    if ((flags & 0b011) !== 0) w.u8(r.u8()); // element kind or reference type
    const count = r.u32();
    w.u32(count);
    for (let j = 0; j < count; j++) {
      if (usesExprs) copyConstExpr(r, w, importedGlobals);
      else w.u32(r.u32());
    }
  }
  return w.toBytes();
}

function dataSection(body: Uint8Array, importedGlobals: number): Uint8Array {
  const r = new ByteReader(body);
  const w = new ByteWriter();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    w.u32(flags);
    if (flags === 2) w.u32(r.u32());
    if (flags === 0 || flags === 2) copyConstExpr(r, w, importedGlobals);
    else if (flags !== 1) throw new ModuleFormatError(`unsupported data segment flags ${flags}`);
    const size = r.u32();
    w.u32(size);
    w.range(body, r.pos, r.pos + size);
    r.skip(size);
  }
  return w.toBytes();
}

/** Writes `value` as unsigned LEB128 at out[o]; returns the position after it. */
function putU32(out: Uint8Array, o: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
}

/**
 * Every body with `global.get/set` of a defined global moved up by one. Written straight into one
 * buffer (the densest shape renumbers every other instruction: per-write bookkeeping there cost
 * more than decoding). Room: a renumbered instruction is ≥ 2 bytes and grows by at most one, and
 * each body's size is written as a 5-byte LEB128 (valid, and re-encoded by the instrumenter),
 * ≤ 4 bytes more than a body of ≥ 2 bytes: at most twice the section, plus the count.
 */
function codeSection(body: Uint8Array, importedGlobals: number): { section: Uint8Array; units: number } {
  const r = new ByteReader(body);
  const index = new ByteReader(body);
  const n = r.u32();
  let units = n;
  const out = new Uint8Array(2 * body.length + 16);
  let o = putU32(out, 0, n);
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > body.length || size < 2) r.fail('function body past the section');
    const sizeAt = o;
    o += 5;
    const bodyStart = r.pos;
    r.end = end;
    for (let groups = r.u32(); groups > 0; groups--) {
      r.u32();
      r.u8();
    }
    let copied = bodyStart;
    let pos = r.pos;
    while (pos < end) {
      units++;
      const start = pos;
      const op = body[start] as number;
      if (op !== OP_GLOBAL_GET && op !== OP_GLOBAL_SET) {
        r.pos = pos;
        readInstruction(r);
        pos = r.pos;
        continue;
      }
      // global.get/set: the index, read here (one byte: inline; else the general reader)
      let g = start + 1 < end ? (body[start + 1] as number) : 0x80;
      if (g < 0x80) pos = start + 2;
      else {
        index.reset(start + 1, end);
        g = index.u32();
        pos = index.pos;
      }
      if (g < importedGlobals) continue;
      if (start - copied > 64) {
        out.set(body.subarray(copied, start), o);
        o += start - copied;
      } else for (let j = copied; j < start; j++) out[o++] = body[j] as number;
      out[o++] = op;
      const moved = g + 1;
      if (moved < 0x80) out[o++] = moved;
      else o = putU32(out, o, moved);
      copied = pos;
    }
    out.set(body.subarray(copied, end), o);
    o += end - copied;
    r.end = body.length;
    // the body's size, padded to 5 bytes
    let v = o - sizeAt - 5;
    for (let k = 0; k < 4; k++) {
      out[sizeAt + k] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[sizeAt + 4] = v;
  }
  return { section: out.subarray(0, o), units };
}

/**
 * The module rewritten to import its gas counter (`__helm`.`gas`, mutable i64) after its own
 * imports; returns the new bytes and the counter's global index. The input must be a valid
 * module (the caller ran `WebAssembly.validate`); custom sections are kept (the instrumenter
 * drops them).
 */
export function importGasGlobal(bytes: Uint8Array): { bytes: Uint8Array; gas: number; work: number } {
  const r = new ByteReader(bytes);
  const header = r.bytesOf(8);
  const sections: { id: number; body: Uint8Array }[] = [];
  while (!r.done) {
    const id = r.u8();
    sections.push({ id, body: r.bytesOf(r.u32()) });
  }
  const imports = importSection(sections.find((s) => s.id === 2)?.body);
  const globalBody = sections.find((s) => s.id === 6)?.body;
  const globals = globalBody === undefined ? undefined : globalSection(globalBody, imports.importedGlobals);
  // Without defined globals no index moves: only the import section changes.
  const renumber = globals !== undefined && globals.count > 0;
  const g = imports.importedGlobals;
  const parts: { id: number; body: Uint8Array }[] = [];
  // Elementary steps, for the instrumenter's work counter: sections, and every instruction decoded.
  let work = sections.length;
  for (const { id, body } of sections) {
    // The import section comes right after the type section (custom sections aside).
    if (!parts.some((p) => p.id === 2) && id !== 0 && id !== 1) parts.push({ id: 2, body: imports.section });
    if (id === 2) continue;
    let section = body;
    if (renumber) {
      if (id === 6) section = (globals as { section: Uint8Array }).section;
      else if (id === 7) section = exportSection(body, g);
      else if (id === 9) section = elementSection(body, g);
      else if (id === 10) {
        const code = codeSection(body, g);
        section = code.section;
        work += code.units;
      } else if (id === 11) section = dataSection(body, g);
    }
    parts.push({ id, body: section });
  }
  if (!parts.some((p) => p.id === 2)) parts.push({ id: 2, body: imports.section });
  // One allocation for the whole module (the code section is most of it).
  let size = header.length;
  for (const p of parts) size += 1 + 5 + p.body.length;
  const out = new Uint8Array(size);
  out.set(header, 0);
  let o = header.length;
  for (const p of parts) {
    out[o++] = p.id;
    o = putU32(out, o, p.body.length);
    out.set(p.body, o);
    o += p.body.length;
  }
  return { bytes: out.subarray(0, o), gas: g, work };
}
