// A component's core modules import their gas counter (sandbox.md §5, "Components: one
// counter"; I-SANDBOX-4): the renumbering of every defined global keeps the module's behaviour,
// a source module cannot import the counter's name, a preview1 module's output is unchanged, and
// the run refuses an instance metered on a counter of its own.
import { describe, expect, it } from 'vitest';
import { type InstantiateComponent, runComponent } from '../src/internal/component-run.ts';
import { importGasGlobal } from '../src/internal/gas-import.ts';
import { GAS_EXPORT, instrumentModule } from '../src/internal/instrument.ts';
import { wat } from './helpers/wat.ts';

const OPTS = { maxMemoryPages: 4, maxTableElements: 100, importPolicy: () => true };

// Imported and defined globals referenced from code, global initializers, element and data
// offsets and element expressions, and exported; 200 defined globals so that indices cross the
// one-byte LEB128 boundary (127 → 128) when they move up by one.
const MANY = 200;
const SOURCE = `(module
  (import "env" "base" (global $base i32))
  (import "env" "fb" (global $fb funcref))
  (import "env" "k" (global $k i32))
  (memory (export "mem") 1)
  (table 4 funcref)
  ${Array.from({ length: MANY }, (_, i) => `(global $g${i} (mut i32) (i32.const ${i}))`).join('\n  ')}
  (global $copy i32 (global.get $base))
  (global $fr funcref (ref.func $seven))
  (elem (offset (global.get $k)) func $seven)
  (elem (table 0) (offset (i32.const 2)) funcref (item (global.get 1)) (item (ref.func $seven)))
  (data (offset (global.get $k)) "\\2a")
  (type $r (func (result i32)))
  (func $seven (result i32) (i32.const 7))
  (func (export "f") (result i32)
    (global.set $g${MANY - 1} (i32.add (global.get $g${MANY - 1}) (global.get $g127)))
    (table.set (i32.const 0) (global.get $fr))
    (i32.add (i32.add (global.get $g${MANY - 1}) (global.get $copy))
      (i32.add (i32.load8_u (i32.const 1))
        (i32.add (call_indirect (type $r) (global.get $k))
          (i32.add (call_indirect (type $r) (i32.const 2))
            (i32.add (call_indirect (type $r) (i32.const 3)) (call_indirect (type $r) (i32.const 0))))))))
  (export "g128" (global $g128)))`;

// A defined global read by another global's initializer and by a data offset (the engine accepts
// it; wabt does not, so written out): (global $a i32 (i32.const 5)) (global $b i32 (global.get $a))
// (data (offset (global.get $a)) "\2a"), exporting $b as "g", memory as "m", `f` returning $b.
const DEFINED_IN_INIT = Uint8Array.from([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7f, // types: () -> i32
  0x03,
  0x02,
  0x01,
  0x00, // functions
  0x05,
  0x03,
  0x01,
  0x00,
  0x01, // memory 1
  0x06,
  0x0b,
  0x02,
  0x7f,
  0x00,
  0x41,
  0x05,
  0x0b,
  0x7f,
  0x00,
  0x23,
  0x00,
  0x0b, // globals
  0x07,
  0x0d,
  0x03,
  0x01,
  0x67,
  0x03,
  0x01,
  0x01,
  0x66,
  0x00,
  0x00,
  0x01,
  0x6d,
  0x02,
  0x00, // exports
  0x0a,
  0x06,
  0x01,
  0x04,
  0x00,
  0x23,
  0x01,
  0x0b, // code: global.get 1
  0x0b,
  0x07,
  0x01,
  0x00,
  0x23,
  0x00,
  0x0b,
  0x01,
  0x2a, // data at global 0
]);

describe('shared gas counter (component core modules)', () => {
  it('moves every defined global up by one and keeps the behaviour', async () => {
    const source = await wat(SOURCE);
    const shared = importGasGlobal(source);
    expect(shared.gas).toBe(3); // after the three imported globals
    expect(WebAssembly.validate(shared.bytes)).toBe(true);
    const fb = new WebAssembly.Instance(
      new WebAssembly.Module(await wat('(module (func (export "f") (result i32) (i32.const 100)))')),
    ).exports.f;
    const env = { base: new WebAssembly.Global({ value: 'i32' }, 1000), fb, k: 1 };
    const plain = new WebAssembly.Instance(new WebAssembly.Module(source), { env });
    const counter = new WebAssembly.Global({ value: 'i64', mutable: true }, 1n << 40n);
    const moved = new WebAssembly.Instance(new WebAssembly.Module(shared.bytes), {
      env,
      __helm: { gas: counter },
    });
    const f = (i: WebAssembly.Instance) => (i.exports.f as () => number)();
    // 199 + 127 + 1000 + 42 + 7 + 100 + 7 + 7, then again (the global keeps its update)
    expect(f(moved)).toBe(f(plain));
    expect(f(moved)).toBe(f(plain));
    expect((moved.exports.g128 as WebAssembly.Global).value).toBe(128);

    // Instrumented: metered on the imported counter, and still the same results.
    const inst = instrumentModule(source, { ...OPTS, sharedGas: true });
    expect(inst.imports.map((i) => i.name)).toEqual(['base', 'fb', 'k']); // the counter is not listed
    const metered = new WebAssembly.Instance(new WebAssembly.Module(inst.bytes), {
      env,
      __helm: { gas: counter },
    });
    expect(metered.exports[GAS_EXPORT]).toBe(counter);
    const before = counter.value as bigint;
    const again = new WebAssembly.Instance(new WebAssembly.Module(source), { env });
    expect(f(metered)).toBe(f(again));
    expect(counter.value as bigint).toBeLessThan(before);
  });

  it('moves a defined global read by an initializer or a data offset', () => {
    const shared = importGasGlobal(DEFINED_IN_INIT);
    expect(shared.gas).toBe(0);
    for (const bytes of [
      shared.bytes,
      instrumentModule(DEFINED_IN_INIT, { ...OPTS, sharedGas: true }).bytes,
    ]) {
      const counter = new WebAssembly.Global({ value: 'i64', mutable: true }, 1000n);
      const i = new WebAssembly.Instance(new WebAssembly.Module(bytes), { __helm: { gas: counter } });
      expect((i.exports.g as WebAssembly.Global).value).toBe(5);
      expect((i.exports.f as () => number)()).toBe(5);
      expect(new Uint8Array((i.exports.m as WebAssembly.Memory).buffer)[5]).toBe(0x2a);
    }
  });

  it('refuses a source module that imports from the reserved module name', async () => {
    for (const name of ['__helm', '__helm_x']) {
      const source = await wat(`(module (import "${name}" "gas" (global (mut i64))))`);
      expect(() => instrumentModule(source, { ...OPTS, sharedGas: true })).toThrow(/reserved/);
    }
  });

  it('leaves a preview1 (non-shared) module byte for byte as it was', async () => {
    const source = await wat(SOURCE);
    const a = instrumentModule(source, OPTS);
    const b = instrumentModule(source, { ...OPTS, sharedGas: false });
    expect(b.bytes).toEqual(a.bytes);
    const m = new WebAssembly.Module(a.bytes);
    expect(WebAssembly.Module.imports(m).some((i) => i.module === '__helm')).toBe(false);
  });

  it('a run refuses a core instance metered on a counter of its own', async () => {
    const source = await wat('(module (func (export "go")))');
    const own = new WebAssembly.Module(instrumentModule(source, OPTS).bytes);
    const instantiate: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      const i = instantiateCore(getCoreModule('m'), {});
      return { run: { run: () => (i.exports.go as () => void)() } };
    };
    const req = {
      modules: { m: own },
      stdin: new Uint8Array(0),
      gas: 1000,
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    expect(runComponent(instantiate, req)).toMatchObject({ ok: false, code: 'SANDBOX_VIOLATION' });
    const shared = new WebAssembly.Module(instrumentModule(source, { ...OPTS, sharedGas: true }).bytes);
    expect(runComponent(instantiate, { ...req, modules: { m: shared } })).toMatchObject({ ok: true });
  });
});
