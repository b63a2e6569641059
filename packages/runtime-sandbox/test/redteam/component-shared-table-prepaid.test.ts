// Red team (I-SANDBOX-4 "gas bounds work", sandbox.md §5 "no instruction runs before it is paid
// for"). A loop-free internal function is *pre-paid*: it charges nothing for its own
// instructions and relies on every caller to pay its cost first; a `call_indirect` pre-pays "the
// largest cost of any pre-paid function of the module" — of the *calling* module. In a component,
// core instances share tables (the component wires one instance's exported table into another's
// imports; wit-component's own shim/fix-up modules do exactly this). So instance B puts a large
// loop-free function $g in an exported table, instance A (which has no pre-paid function: its
// maximum is 0) calls it with `call_indirect` in a loop, and every call runs all of $g's
// instructions without anybody paying for them. sandbox.md calls this an under-charge "by at most
// its own cost per such call", but that cost is up to a 7 MB body's worth of instructions per
// call, for the few gas of A's loop iteration: the budget no longer bounds the work (a loop of
// such calls runs until the deadline whatever the budget).
//
// Glue in jco's calling convention (as test/adversarial/I-SANDBOX-6.test.ts writes it), run
// in-process by runComponent; $g's instructions are counted exactly (straight-line `nop`s).
import { describe, expect, it } from 'vitest';
import { type InstantiateComponent, runComponent } from '../../src/internal/component-run.ts';
import { instrumentModule } from '../../src/internal/instrument.ts';
import { wat } from '../helpers/wat.ts';

const NOPS = 20_000; // $g: 20 000 nops + its `end`
const CALLS = 500;

const moduleB = `(module
  (table (export "t") 1 funcref)
  (elem (i32.const 0) $g)
  (func $g ${'nop '.repeat(NOPS)}))`;

const moduleA = `(module
  (import "b" "t" (table 1 funcref))
  (type $v (func))
  (func (export "go") (local $i i32)
    (loop $l
      (call_indirect (type $v) (i32.const 0))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${CALLS}))))))`;

const instrumented = async (source: string) =>
  new WebAssembly.Module(
    instrumentModule(await wat(source), {
      maxMemoryPages: 16,
      maxTableElements: 1000,
      importPolicy: () => true,
      sharedGas: true, // as registerComponent instruments a component's core modules
    }).bytes,
  );

describe('red team: a function called through a table another instance shares is paid for', () => {
  it(`${CALLS} indirect calls of a ${NOPS}-instruction function cost at least the instructions run`, async () => {
    const modules = {
      'a.core.wasm': await instrumented(moduleA),
      'b.core.wasm': await instrumented(moduleB),
    };
    const instantiate: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      const b = instantiateCore(getCoreModule('b.core.wasm'), {});
      const a = instantiateCore(getCoreModule('a.core.wasm'), { b: { t: b.exports.t as WebAssembly.Table } });
      return { run: { run: () => (a.exports.go as () => void)() } };
    };
    const req = {
      modules,
      stdin: new Uint8Array(0),
      gas: 1e12,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    const r = runComponent(instantiate, req);
    expect(r).toMatchObject({ ok: true, exit_code: 0 });
    // today: a few thousand gas for 10 000 000 instructions of $g
    expect(r.gas_used).toBeGreaterThanOrEqual(CALLS * NOPS);

    // …and a budget far below that work is exhausted rather than completing it.
    const poor = runComponent(instantiate, { ...req, gas: (CALLS * NOPS) / 100 });
    expect(poor).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
  });
});
