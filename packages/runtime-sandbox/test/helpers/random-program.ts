// Random small well-formed modules for the gas-model property test (test/gas-model.property.test.ts):
// a few `[] -> []` functions whose bodies mix nested blocks, if/else, branches of every kind
// (never to a loop label, so every loop is bounded), direct, indirect and tail calls (only to
// higher-numbered functions, so every run terminates), bounded loops, memory.fill and a float
// instruction. Function 0 is exported as `run` (self-charging); the others are internal, so the
// loop-free ones are pre-paid by their callers.
//
// The program is driven by a list of choices (0 once the list is exhausted, and 0 always means
// "stop" or "the simplest"), so fast-check can shrink a failing program by shrinking the list.
// With `ticks`, every original instruction is preceded by
// `global.get $count; i64.const 5; i64.add; global.set $count`: the exported global `count` then
// counts the instructions executed, the tick's own 4 included (5 per original instruction).
import { Bin, body, exportEntry, FUNCREF, funcType, I32, I64, moduleOf, vec } from './shapes.ts';

class Choices {
  private i = 0;
  private readonly xs: readonly number[];
  constructor(xs: readonly number[]) {
    this.xs = xs;
  }
  /** A number in [0, n). */
  pick(n: number): number {
    return (this.xs[this.i++] ?? 0) % n;
  }
}

/** One original instruction's bytes. */
type Ins = readonly number[];

type Label = 'func' | 'block' | 'if' | 'loop';

interface Ctx {
  readonly func: number;
  readonly funcs: number;
  readonly labels: Label[];
  loops: number;
  size: number;
  /** Call sites and loops emitted in this function. */
  calls: number;
  hasLoop: boolean;
}

const MAX_DEPTH = 5;
const MAX_SIZE = 40; // instructions per function (leaves choices for the later ones)
const MAX_LOOPS = 3; // loop nesting (each loop has its own counter local 1..3)

const TICK: readonly number[] = [0x23, 0x00, 0x42, 0x05, 0x7c, 0x24, 0x00];

function condition(c: Choices, out: Ins[]): void {
  if (c.pick(2) === 0) out.push([0x41, c.pick(2)]);
  else out.push([0x20, 0x00], [0x41, c.pick(8)], [0x49]); // local.get 0; i32.const k; i32.lt_u
}

/** A non-loop label, as a branch depth. */
function target(c: Choices, ctx: Ctx): number {
  const candidates: number[] = [];
  for (let i = 0; i < ctx.labels.length; i++) if (ctx.labels[i] !== 'loop') candidates.push(i);
  const idx = candidates[c.pick(candidates.length)] as number;
  return ctx.labels.length - 1 - idx;
}

/** A sequence of stack-neutral statements; stops after an unconditional branch. */
function statements(c: Choices, ctx: Ctx, out: Ins[]): void {
  while (ctx.size < MAX_SIZE) {
    const before = out.length;
    const done = statement(c, ctx, out);
    ctx.size += out.length - before;
    if (done) return;
  }
}

/** Appends one statement; true if it ends the sequence (stop, or an unconditional branch). */
function statement(c: Choices, ctx: Ctx, out: Ins[]): boolean {
  const nested = ctx.labels.length < MAX_DEPTH;
  const callee = ctx.func + 1 + c.pick(Math.max(1, ctx.funcs - ctx.func - 1));
  const canCall = ctx.func + 1 < ctx.funcs;
  switch (c.pick(16)) {
    case 0:
      return true;
    case 1:
      out.push([0x01]); // nop
      return false;
    case 2:
      out.push([0x41, c.pick(64)], [0x1a]);
      return false;
    case 3:
      out.push([0x20, 0x00], [0x41, 0x01], [0x6a], [0x21, 0x00]); // x += 1
      return false;
    case 4:
      if (!nested) return false;
      out.push([0x02, 0x40]);
      ctx.labels.push('block');
      statements(c, ctx, out);
      ctx.labels.pop();
      out.push([0x0b]);
      return false;
    case 5:
      if (!nested) return false;
      condition(c, out);
      out.push([0x04, 0x40]);
      ctx.labels.push('if');
      statements(c, ctx, out);
      if (c.pick(2) === 1) {
        out.push([0x05]);
        statements(c, ctx, out);
      }
      ctx.labels.pop();
      out.push([0x0b]);
      return false;
    case 6:
      out.push([0x0c, target(c, ctx)]);
      return true;
    case 7:
      condition(c, out);
      out.push([0x0d, target(c, ctx)]);
      return false;
    case 8: {
      condition(c, out);
      const n = c.pick(3);
      const table = [0x0e, n];
      for (let i = 0; i <= n; i++) table.push(target(c, ctx));
      out.push(table);
      return true;
    }
    case 9:
      out.push([0x0f]);
      return true;
    case 10:
      if (canCall) out.push([0x10, callee]);
      if (canCall) ctx.calls++;
      return false;
    case 11:
      if (canCall) out.push([0x41, callee], [0x11, 0x00, 0x00]);
      if (canCall) ctx.calls++;
      return false;
    case 12:
      if (!canCall) return false;
      ctx.calls++;
      if (c.pick(2) === 0)
        out.push([0x12, callee]); // return_call
      else out.push([0x41, callee], [0x13, 0x00, 0x00]); // return_call_indirect
      return true;
    case 13: {
      if (!nested || ctx.loops >= MAX_LOOPS) return false;
      const counter = 1 + ctx.loops;
      out.push([0x41, 0x00], [0x21, counter], [0x03, 0x40]);
      ctx.labels.push('loop');
      ctx.hasLoop = true;
      ctx.loops++;
      statements(c, ctx, out);
      ctx.loops--;
      ctx.labels.pop();
      // counter += 1; br_if 0 while counter < n (n ≤ 3)
      out.push([0x20, counter], [0x41, 0x01], [0x6a], [0x22, counter]);
      out.push([0x41, 1 + c.pick(3)], [0x49], [0x0d, 0x00], [0x0b]);
      return false;
    }
    case 14:
      out.push([0x41, c.pick(64)], [0x41, c.pick(64)], [0x41, c.pick(64)], [0xfc, 0x0b, 0x00]);
      return false;
    default:
      out.push([0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], [0x44, 0, 0, 0, 0, 0, 0, 0, 0], [0xa0], [0x1a]);
      return false;
  }
}

export interface RandomProgram {
  /** The module (`run` exported; with ticks also the i64 global `count`). */
  readonly bytes: Uint8Array;
  /** Original instructions per function (the final `end` included). */
  readonly instructions: readonly number[];
  /** Call sites in pre-paid functions (internal and loop-free): where PrepaySlot charges. */
  readonly prepaidCallSites: number;
}

/** Builds the program the choices describe; `ticks` adds the instruction counter (see above). */
export function randomProgram(choices: readonly number[], ticks: boolean): RandomProgram {
  const c = new Choices(choices);
  const funcs = 3 + c.pick(3);
  const bodies: Uint8Array[] = [];
  const instructions: number[] = [];
  let prepaidCallSites = 0;
  for (let f = 0; f < funcs; f++) {
    const code: Ins[] = [];
    const ctx: Ctx = { func: f, funcs, labels: ['func'], loops: 0, size: 0, calls: 0, hasLoop: false };
    statements(c, ctx, code);
    if (f > 0 && !ctx.hasLoop) prepaidCallSites += ctx.calls;
    code.push([0x0b]);
    instructions.push(code.length);
    const b = new Bin();
    for (const ins of code) {
      if (ticks) b.bytes(TICK);
      b.bytes(ins);
    }
    const bytes = b.done();
    bodies.push(body([[1 + MAX_LOOPS, I32]], bytes.subarray(0, bytes.length - 1))); // body() adds `end`
  }
  const funcIndices = Array.from({ length: funcs }, (_, i) => i);
  const exports = [exportEntry('run', 0, 0)];
  if (ticks) exports.push(exportEntry('count', 3, 0));
  const sections: Array<[number, Uint8Array | readonly number[]]> = [
    [1, vec([funcType([], [])])],
    [3, vec(funcIndices.map(() => [0x00]))],
    [4, [1, FUNCREF, 0x00, funcs]],
    [5, [1, 0x00, 1]],
  ];
  if (ticks) sections.push([6, [1, I64, 0x01, 0x42, 0x00, 0x0b]]);
  sections.push([7, vec(exports)]);
  sections.push([9, [1, 0x00, 0x41, 0x00, 0x0b, funcs, ...funcIndices]]);
  sections.push([10, vec(bodies)]);
  return { bytes: moduleOf(sections), instructions, prepaidCallSites };
}
