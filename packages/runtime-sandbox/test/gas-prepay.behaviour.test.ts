// Behavioural test of the gas model's pre-payment (docs/spec/sandbox.md §5) on runnable programs
// whose calls sit inside if/else arms, blocks and loops: the gas a run is charged must equal what
// the spec's model gives for the path it takes. The model here is written from the spec, not from
// the instrumenter: a pre-paid function's slot is the longest common prefix of its call sites'
// block paths (the instrumenter finds it incrementally, PrepaySlot in src/internal/instrument.ts),
// and the run's gas is the sum of the charges on the executed path. (gas-model.property.test.ts
// checks bounds on random programs, which rarely have pre-paid call sites in arms; a slot placed
// in the wrong arm under-charges only on the paths that skip it, which this test runs.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GAS_EXPORT, instrumentModule } from '../src/internal/instrument.ts';
import { Bin, body, exportEntry, funcType, I32, moduleOf, vec } from './helpers/shapes.ts';

type Stmt =
  | { readonly kind: 'call'; readonly callee: number }
  | { readonly kind: 'if'; readonly bit: number; readonly ifArm: Stmt[]; readonly elseArm: Stmt[] | null }
  | { readonly kind: 'block'; readonly body: Stmt[] }
  | { readonly kind: 'loop'; readonly times: number; readonly body: Stmt[] };

/** Every function is `(param $x i32)` with one i32 local (a loop counter); function 0 is exported. */
interface Program {
  readonly funcs: Stmt[][];
}

/** A program from a list of choices: function f calls only functions after it (calls terminate). */
function program(choices: readonly number[]): Program {
  let i = 0;
  const pick = (n: number): number => (choices[i++] ?? 0) % n;
  const count = 2 + pick(5);
  const funcs: Stmt[][] = [];
  for (let f = 0; f < count; f++) {
    let budget = 12;
    let loops = pick(3) === 0; // a third of the functions may have loops (self-charging)
    const stmts = (depth: number): Stmt[] => {
      const out: Stmt[] = [];
      for (let n = 1 + pick(3); n > 0 && budget > 0; n--, budget--) {
        const k = depth > 3 ? 0 : pick(8);
        if (k <= 2) {
          if (f + 1 < count) out.push({ kind: 'call', callee: f + 1 + pick(count - f - 1) });
        } else if (k <= 5)
          out.push({
            kind: 'if',
            bit: pick(8),
            ifArm: stmts(depth + 1),
            elseArm: k === 5 ? null : stmts(depth + 1),
          });
        else if (k === 6) out.push({ kind: 'block', body: stmts(depth + 1) });
        else if (loops) {
          loops = false; // one loop per function (its counter is the one local)
          out.push({ kind: 'loop', times: 1 + pick(3), body: stmts(depth + 1) });
        }
      }
      return out;
    };
    funcs.push(stmts(0));
  }
  return { funcs };
}

const OP = { block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, brIf: 0x0d, call: 0x10 };
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;

/** Writes the code of a statement list (instruction counts in the comments: the model counts the same). */
function emit(stmts: readonly Stmt[], w: Bin): void {
  for (const s of stmts) {
    if (s.kind === 'call')
      w.byte(LOCAL_GET, 0, OP.call).u32(s.callee); // 2 instructions
    else if (s.kind === 'block') {
      w.byte(OP.block, 0x40); // 2 with its end
      emit(s.body, w);
      w.byte(OP.end);
    } else if (s.kind === 'if') {
      // x & (1 << bit): 4 with the `if`, +1 `else`, +1 `end`
      w.byte(LOCAL_GET, 0, I32_CONST)
        .s64(BigInt(1 << s.bit))
        .byte(0x71, OP.if, 0x40);
      emit(s.ifArm, w);
      if (s.elseArm !== null) {
        w.byte(OP.else);
        emit(s.elseArm, w);
      }
      w.byte(OP.end);
    } else {
      // counter = times; loop body; counter -= 1; br_if 0 (counter ≠ 0); end
      w.byte(I32_CONST).s64(BigInt(s.times)).byte(LOCAL_SET, 1, OP.loop, 0x40);
      emit(s.body, w);
      w.byte(LOCAL_GET, 1, I32_CONST, 1, 0x6b, LOCAL_TEE, 1, OP.brIf, 0, OP.end);
    }
  }
}

function moduleBytes(p: Program): Uint8Array {
  const code = p.funcs.map((stmts) => {
    const w = new Bin();
    emit(stmts, w);
    return body([[1, I32]], w.done());
  });
  return moduleOf([
    [1, vec([funcType([I32], [])])],
    [3, vec(p.funcs.map(() => [0]))],
    [7, vec([exportEntry('run', 0, 0)])],
    [10, vec(code)],
  ]);
}

// ---- The spec's gas model ----

const hasLoop = (stmts: readonly Stmt[]): boolean =>
  stmts.some(
    (s) =>
      s.kind === 'loop' ||
      (s.kind === 'block' && hasLoop(s.body)) ||
      (s.kind === 'if' && (hasLoop(s.ifArm) || (s.elseArm !== null && hasLoop(s.elseArm)))),
  );

/** Instructions of a statement list, outside loop bodies (a loop counts its 3 set-up instructions). */
function instructions(stmts: readonly Stmt[]): number {
  let n = 0;
  for (const s of stmts) {
    if (s.kind === 'call') n += 2;
    else if (s.kind === 'block') n += 2 + instructions(s.body);
    else if (s.kind === 'if')
      n += 5 + instructions(s.ifArm) + (s.elseArm === null ? 0 : 1 + instructions(s.elseArm));
    else n += 3; // i32.const, local.set, loop
  }
  return n;
}

/** Instructions of one loop iteration's region: its body outside nested loops, the counter, `end`. */
const loopInstructions = (s: Stmt & { kind: 'loop' }): number => instructions(s.body) + 6;

class Model {
  private readonly prepaid: boolean[];
  private readonly cost: number[];

  constructor(private readonly p: Program) {
    // Function 0 is exported; any function with a loop charges itself.
    this.prepaid = p.funcs.map((stmts, f) => f !== 0 && !hasLoop(stmts));
    this.cost = p.funcs.map((stmts) => instructions(stmts) + 1); // + the body's final `end`
  }

  private prepay(callee: number): number {
    return this.prepaid[callee] ? (this.cost[callee] as number) : 0;
  }

  /** Pre-payments of the calls in a region (outside nested loop bodies). */
  private regionPrepay(stmts: readonly Stmt[]): number {
    let n = 0;
    for (const s of stmts) {
      if (s.kind === 'call') n += this.prepay(s.callee);
      else if (s.kind === 'block') n += this.regionPrepay(s.body);
      else if (s.kind === 'if')
        n += this.regionPrepay(s.ifArm) + (s.elseArm === null ? 0 : this.regionPrepay(s.elseArm));
    }
    return n;
  }

  /**
   * A pre-paid function's slot: the longest common prefix of its call sites' block paths (arms are
   * blocks of their own), or null without calls; and the sum of the pre-payments.
   */
  private slot(stmts: readonly Stmt[]): { path: Stmt[][]; pending: number } | null {
    let common: Stmt[][] | null = null;
    let pending = 0;
    const walk = (list: Stmt[], path: Stmt[][]): void => {
      const here = [...path, list];
      for (const s of list) {
        if (s.kind === 'call') {
          pending += this.prepay(s.callee);
          if (common === null) common = here;
          else {
            let k = 0;
            while (k < common.length && k < here.length && common[k] === here[k]) k++;
            common = common.slice(0, k);
          }
        } else if (s.kind === 'block') walk(s.body, here);
        else if (s.kind === 'if') {
          walk(s.ifArm, here);
          if (s.elseArm !== null) walk(s.elseArm, here);
        }
      }
    };
    walk(stmts as Stmt[], []);
    return common === null ? null : { path: common, pending };
  }

  /** The gas function f charges itself when called with x (its callees' own charges included). */
  gas(f: number, x: number): number {
    const stmts = this.p.funcs[f] as Stmt[];
    let gas = 0;
    let slotBlock: Stmt[] | null = null;
    if (this.prepaid[f]) {
      const slot = this.slot(stmts);
      if (slot !== null && slot.pending > 0) slotBlock = slot.path[slot.path.length - 1] as Stmt[];
    } else gas += instructions(stmts) + 1 + this.regionPrepay(stmts);
    const run = (list: Stmt[]): void => {
      if (list === slotBlock) gas += this.regionPrepay(stmts); // the slot: every call site's pre-payment
      for (const s of list) {
        if (s.kind === 'call') gas += this.gas(s.callee, x);
        else if (s.kind === 'block') run(s.body);
        else if (s.kind === 'if') {
          if ((x & (1 << s.bit)) !== 0) run(s.ifArm);
          else if (s.elseArm !== null) run(s.elseArm);
        } else
          for (let t = 0; t < s.times; t++) {
            gas += loopInstructions(s) + this.regionPrepay(s.body);
            run(s.body);
          }
      }
    };
    run(stmts);
    return gas;
  }
}

function charged(bytes: Uint8Array, x: number): number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const gas = instance.exports[GAS_EXPORT] as WebAssembly.Global;
  const budget = 1n << 40n;
  gas.value = budget;
  (instance.exports.run as (x: number) => void)(x);
  return Number(budget - (gas.value as bigint));
}

const OPTS = { maxMemoryPages: 16, maxTableElements: 1000, importPolicy: () => true };

describe('gas pre-payment on the executed path (behaviour)', () => {
  it('a run is charged exactly the spec model’s gas for its path, calls inside arms, blocks and loops', () => {
    let prepaidCallsInArms = 0;
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 200, size: 'max' }), (cs) => {
        const p = program(cs);
        const bytes = instrumentModule(moduleBytes(p), OPTS).bytes;
        const model = new Model(p);
        for (const x of [0, 0x55, 0xaa, 0xff, 0x0f, 0xf0]) expect(charged(bytes, x)).toBe(model.gas(0, x));
        if (
          p.funcs.some(
            (stmts, f) => f !== 0 && !hasLoop(stmts) && JSON.stringify(stmts).includes('"elseArm":[{'),
          )
        )
          prepaidCallsInArms++;
      }),
      { numRuns: 300, seed: 2323 },
    );
    // the family does exercise what it is for: pre-paid functions with statements in else arms
    expect(prepaidCallsInArms).toBeGreaterThan(50);
  });

  it('a pre-paid function calling in both arms pays both pre-payments at its entry, on either path', () => {
    // run(x) → f(x): if (x & 1) call g else call h — f's slot is its body, not the `if` arm
    const p: Program = {
      funcs: [
        [{ kind: 'call', callee: 1 }],
        [
          {
            kind: 'if',
            bit: 0,
            ifArm: [{ kind: 'call', callee: 2 }],
            elseArm: [{ kind: 'call', callee: 3 }],
          },
        ],
        [],
        [{ kind: 'block', body: [] }],
      ],
    };
    const bytes = instrumentModule(moduleBytes(p), OPTS).bytes;
    // run: 2 + end = 3, + f's cost (if 4, call 2, else 1, call 2, end 1, final end 1 = 11); f's
    // slot: g (its end: 1) + h (block, end, end: 3)
    expect(new Model(p).gas(0, 1)).toBe(3 + 11 + 4);
    expect(charged(bytes, 1)).toBe(18);
    expect(charged(bytes, 0)).toBe(18);
  });
});
