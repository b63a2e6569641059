// The static gas cost of instantiating an instrumented module (normative: docs/spec/sandbox.md
// §"Instantiation cost"). `new WebAssembly.Instance` allocates the defined tables, evaluates every
// global initializer and copies every element and data segment before any guest instruction runs;
// that work is charged from the budget, at the rates of the bulk instructions that do the same
// work (table.grow, table.init, memory.init), before the instance is created. It is computed from
// exactly the bytes that run (the pinned, instrumented bytes), so a cached module costs the same.
//
// Loaded by plain Node in the isolation workers, so it imports its siblings with `.ts` specifiers.
import { SHARED_GAS_MODULE, SHARED_GAS_NAME } from './metering-abi.ts';
import { ByteReader, ModuleFormatError, readLimits } from './wasm-binary.ts';

/**
 * Globals the instrumenter appends at the end of the global section: gas, grow-failed and scratch
 * in a preview1 module; only grow-failed and scratch in a component core module, whose counter is
 * imported (`__helm`.`gas`, gas-import.ts) — counting three there would take the module's own last
 * global for an instrumenter global and leave its initializer unpaid.
 */
const INSTRUMENTER_GLOBALS = 3;
const INSTRUMENTER_GLOBALS_SHARED = 2;

/**
 * Gas charged for every core instance a component run creates, before it is created, on top of
 * its instantiationCost (sandbox.md §"Instantiation cost"): the glue decides how many instances a
 * run makes (any number of `core instance`s of one module), and an instance with nothing
 * instantiationCost charges still costs the engine an instance, its exports and globals — so k
 * instances cost at least k × this, whatever the module. The rate of one host call.
 */
export const COMPONENT_INSTANCE_GAS = 100;

/**
 * Gas per initial page of a component core instance's defined memories: the engine reserves (and
 * maps) each instance's memory at creation, so many instances of a large memory are paid like the
 * `memory.grow` that would reserve the same pages (4096 per 64 KiB page).
 */
export const COMPONENT_MEMORY_PAGE_GAS = 4096;

/** Skips a constant expression up to and including its `end` (the extended-const opcodes too). */
function skipConstExpr(r: ByteReader): number {
  let instructions = 0;
  for (;;) {
    const op = r.u8();
    if (op === 0x0b) return instructions;
    instructions++;
    switch (op) {
      case 0x41: // i32.const
        r.skipSigned(32);
        break;
      case 0x42: // i64.const
        r.skipSigned(64);
        break;
      case 0x43: // f32.const
        r.skip(4);
        break;
      case 0x44: // f64.const
        r.skip(8);
        break;
      case 0xd0: // ref.null t
        r.s33();
        break;
      case 0xd2: // ref.func
      case 0x23: // global.get
        r.u32();
        break;
      case 0x6a: // i32.add, i32.sub, i32.mul, i64.add, i64.sub, i64.mul (extended-const)
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      default:
        throw new ModuleFormatError(`unsupported instruction 0x${op.toString(16)} in a constant expression`);
    }
  }
}

function tableCost(r: ByteReader): number {
  let gas = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.s33(); // reference type
    gas += 8 * readLimits(r, 'table').min;
  }
  return gas;
}

/** True if the import section imports the component run's shared counter (`__helm`.`gas`). */
function importsSharedGas(r: ByteReader): boolean {
  let shared = false;
  for (let n = r.u32(); n > 0; n--) {
    const module = r.name();
    const field = r.name();
    const kind = r.u8();
    if (kind === 0x00)
      r.u32(); // func: type index
    else if (kind === 0x01) {
      r.s33(); // table: reference type, limits
      readLimits(r, 'table');
    } else if (kind === 0x02) readLimits(r, 'memory');
    else if (kind === 0x03) {
      r.u8(); // global: value type, mutability
      r.u8();
      if (module === SHARED_GAS_MODULE && field === SHARED_GAS_NAME) shared = true;
    } else throw new ModuleFormatError(`unsupported import kind ${kind}`);
  }
  return shared;
}

/** Σ initial pages of the defined memories. */
function memoryPages(r: ByteReader): number {
  let pages = 0;
  for (let n = r.u32(); n > 0; n--) pages += readLimits(r, 'memory').min;
  return pages;
}

/**
 * Gas per instruction of a defined global's initializer (at least one instruction per global).
 * 16, not 1: V8 takes ~115 ns to set up an `i64.const` global (~20 ns an `i32` one), so at 1 the
 * gas-per-CPU-second of a module of constant globals fell below the spec's floor (5e7; sandbox.md
 * §"Gas per CPU second"); 16 puts it at ~1.4e8.
 */
const GLOBAL_INIT_GAS = 16;

function globalCost(r: ByteReader, appended: number): number {
  const n = r.u32();
  let gas = 0;
  for (let i = 0; i < n; i++) {
    r.u8(); // value type (v128/ref types are refused by the instrumenter)
    r.u8(); // mutability
    const instructions = skipConstExpr(r);
    if (i < n - appended) gas += GLOBAL_INIT_GAS * Math.max(1, instructions);
  }
  return gas;
}

function elementCost(r: ByteReader): number {
  let gas = 0;
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags > 7) throw new ModuleFormatError(`unsupported element segment flags ${flags}`);
    if ((flags & 0b011) === 0b010) r.u32(); // explicit table index
    if ((flags & 0b001) === 0) skipConstExpr(r); // active: offset
    const usesExprs = (flags & 0b100) !== 0;
    if ((flags & 0b011) !== 0) {
      if (usesExprs) r.s33();
      else r.u8(); // elemkind
    }
    const count = r.u32();
    for (let j = 0; j < count; j++) {
      if (usesExprs) skipConstExpr(r);
      else r.u32();
    }
    gas += 1 + 16 * count;
  }
  return gas;
}

function dataCost(r: ByteReader): number {
  let gas = 0;
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags === 2) r.u32();
    if (flags === 0 || flags === 2) skipConstExpr(r);
    else if (flags !== 1) throw new ModuleFormatError(`unsupported data segment flags ${flags}`);
    const size = r.u32();
    r.skip(size);
    gas += 1 + Math.floor(size / 16);
  }
  return gas;
}

/** What instantiationCost and componentInstanceCost read off the instrumented bytes. */
function scan(bytes: Uint8Array): { gas: number; pages: number } {
  const r = new ByteReader(bytes, 8);
  let gas = 0;
  let pages = 0;
  let appended = INSTRUMENTER_GLOBALS;
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail('section past the end');
    const section = new ByteReader(bytes, r.pos, end);
    // The import section precedes the global section, so `appended` is known when globals are read.
    if (id === 2 && importsSharedGas(section)) appended = INSTRUMENTER_GLOBALS_SHARED;
    else if (id === 4) gas += tableCost(section);
    else if (id === 5) pages += memoryPages(section);
    else if (id === 6) gas += globalCost(section, appended);
    else if (id === 9) gas += elementCost(section);
    else if (id === 11) gas += dataCost(section);
    r.pos = end;
  }
  return { gas, pages };
}

/**
 * The instantiation gas of instrumented module bytes: Σ over defined tables 8 × initial size,
 * Σ over element segments (1 + 16 × entries), Σ over data segments (1 + ⌊bytes / 16⌋), and 16 per
 * instruction (at least one) of every defined global's initializer but the instrumenter's (the last
 * three; the last two in a component core module, which imports its counter).
 */
export function instantiationCost(bytes: Uint8Array): number {
  return scan(bytes).gas;
}

/**
 * What one core instance of a component run costs before it is created, beyond the base
 * COMPONENT_INSTANCE_GAS that `instantiateCore` charges for every instance: its instantiationCost
 * plus COMPONENT_MEMORY_PAGE_GAS per initial page of its defined memories.
 */
export function componentInstanceCost(bytes: Uint8Array): number {
  const { gas, pages } = scan(bytes);
  return gas + COMPONENT_MEMORY_PAGE_GAS * pages;
}
