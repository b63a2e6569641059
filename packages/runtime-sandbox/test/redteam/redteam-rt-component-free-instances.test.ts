// Red team (I-SANDBOX-4: "Gas bounds work … Instantiation … is charged … before the instance is
// created. A component run has one budget … all instances together do at most the budget's work").
// A component decides how many core instances its run creates: the component model lets it
// instantiate the same core module any number of times (`(core instance (instantiate $m))`
// repeated), and jco's glue calls `instantiateCore` once per such instance. instantiationCost
// charges only tables, segments and the initializers of the module's own globals; a core module
// with none of them (or only a memory) costs 0 gas per instance, so `instantiateCore` charges 0
// and the run creates any number of instances — each a V8 instance, its exports object, its
// appended globals and (here) a linear memory reserved by the engine — on a budget of 1 gas. The
// work is bounded by the deadline only, not by the budget (the gas-per-CPU-second floor of
// sandbox.md §"Host-call costs" bench is 0 here).
// Checked against the pinned jco-transpile 0.15.0 with the CLI's options: a component of one core
// module `(memory 1)` and N `(core instance (instantiate 0))` transpiles to exactly N
// instantiateCore calls for N ≤ 1000 (past that its parser refuses the component). Measured on
// the reference box: 1000 instances of a module with `(memory 1024 1024)` (the default 64 MiB cap)
// take ≈ 0.9 s of CPU (the engine's mmap/mprotect per memory) and reserve 64 GiB of address space —
// every run, for 0 gas; with thread isolation that address space is the whole process's, shared
// with every other run.
//
// Suggested fix: charge every instantiation a base cost (e.g. HOST_CALL_GAS, plus something per
// initial memory page / per export), so that k instances cost at least k × base gas.
import { describe, expect, it } from 'vitest';
import { type InstantiateComponent, runComponent } from '../../src/internal/component-run.ts';
import { instantiationCost } from '../../src/internal/instantiation-cost.ts';
import { instrumentModule } from '../../src/internal/instrument.ts';
import { wat } from '../helpers/wat.ts';

const INSTANCES = 1_000;

describe('red team: I-SANDBOX-4 every core instance of a component run is paid for', () => {
  it(`${INSTANCES} instances of a memory-only core module do not run on a budget of 1 gas`, async () => {
    const bytes = instrumentModule(await wat('(module (memory (export "mem") 16))'), {
      maxMemoryPages: 16,
      maxTableElements: 1000,
      importPolicy: () => true,
      sharedGas: true, // as registerComponent instruments a component's core modules
    }).bytes;
    const module = new WebAssembly.Module(bytes);
    let created = 0;
    // jco's calling convention: one instantiateCore per `core instance` of the component.
    const instantiate: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      for (let i = 0; i < INSTANCES; i++) {
        instantiateCore(getCoreModule('m.core.wasm'), {});
        created++;
      }
      return { run: { run: () => {} } };
    };
    const r = runComponent(instantiate, {
      modules: { 'm.core.wasm': module },
      instantiationGas: { 'm.core.wasm': instantiationCost(bytes) },
      stdin: new Uint8Array(0),
      gas: 1,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    });
    // today: ok, gas_used 0, 1 000 instances (and 1 000 × 1 MiB of linear memory) created for free
    expect({ created, ok: r.ok, gas_used: r.gas_used }).toMatchObject({ ok: false });
    expect(r.code).toBe('ERR_COMPUTE_GAS_EXHAUSTED');
    expect(created).toBeLessThan(INSTANCES);
  });
});
