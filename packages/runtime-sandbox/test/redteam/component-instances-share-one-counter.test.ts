// Red team (I-SANDBOX-4 "gas bounds work", sandbox.md §5: a component run has one budget). A
// component's core instances each metered themselves on their own `__helm_gas`, and a ledger
// summed them at every instantiation, host call and the end of the run. Between two of those
// checks every instance could spend the whole remaining budget: a component with k instances of a
// burner, each running just under the budget in turn without calling the host, did ≈ k × budget
// of work before exhaustion was found at the end (reported ERR_COMPUTE_GAS_EXHAUSTED, but the work
// was done). The number of instances is the component author's choice, so the budget bounded
// nothing.
//
// The work is measured, not inferred from the return code: every loop iteration of every
// instance increments one shared counter (an imported mutable global), and the test reads it
// after the run. Glue in jco's calling convention (as test/adversarial/I-SANDBOX-6.test.ts writes
// it), run in-process by runComponent on modules instrumented exactly as registerComponent does.
import { describe, expect, it } from 'vitest';
import { type InstantiateComponent, runComponent } from '../../src/internal/component-run.ts';
import { instrumentModule } from '../../src/internal/instrument.ts';
import { wat } from '../helpers/wat.ts';

const INSTANCES = 4;
const BUDGET = 200_000;

// Each iteration of $burn's loop is one region: its charge is the loop body's instruction count.
const burner = (iterations: number) => `(module
  (import "counter" "n" (global $n (mut i32)))
  (global $mine (mut i32) (i32.const 0))
  (func (export "burn") (local $i i32)
    (loop $l
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (global.set $mine (i32.add (global.get $mine) (i32.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${iterations}))))))`;

// The gas charged by one iteration of the loop above: its body up to and including its `end`.
const PER_ITERATION = 16;

const instrumented = async (source: string) =>
  new WebAssembly.Module(
    instrumentModule(await wat(source), {
      maxMemoryPages: 16,
      maxTableElements: 1000,
      importPolicy: () => true,
      sharedGas: true,
    }).bytes,
  );

describe('red team: every core instance of a component run charges one shared counter', () => {
  it(`${INSTANCES} instances each burning 90% of the budget in turn do at most the budget of work in total`, async () => {
    // Each instance alone fits in the budget: 90% of it.
    const iterations = Math.floor((0.9 * BUDGET) / PER_ITERATION);
    const modules = { 'burn.core.wasm': await instrumented(burner(iterations)) };
    const n = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const instantiate: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      const burners = Array.from({ length: INSTANCES }, () =>
        instantiateCore(getCoreModule('burn.core.wasm'), { counter: { n } }),
      );
      return {
        run: {
          run: () => {
            for (const b of burners) (b.exports.burn as () => void)();
          },
        },
      };
    };
    const req = {
      modules,
      stdin: new Uint8Array(0),
      gas: BUDGET,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };

    // Calibration: one instance's burn alone fits (and costs what PER_ITERATION says).
    const one: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      const b = instantiateCore(getCoreModule('burn.core.wasm'), { counter: { n } });
      return { run: { run: () => (b.exports.burn as () => void)() } };
    };
    const alone = runComponent(one, req);
    expect(alone).toMatchObject({ ok: true, exit_code: 0 });
    expect(n.value).toBe(iterations);
    expect(alone.gas_used).toBeGreaterThanOrEqual(iterations * PER_ITERATION);

    n.value = 0;
    const r = runComponent(instantiate, req);
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    expect(r.gas_used).toBe(BUDGET);
    // The work done by all instances together: at most the budget's worth of iterations, plus the
    // one whose charge crossed the budget (it traps before running: one charge granularity).
    // Before the fix: INSTANCES × iterations ≈ 3.6 × the budget's worth.
    expect(n.value as number).toBeLessThanOrEqual(Math.floor(BUDGET / PER_ITERATION) + 1);
    // …and the budget was really used up by the instances in turn, not refused up front.
    expect(n.value as number).toBeGreaterThan(iterations);
  });
});
