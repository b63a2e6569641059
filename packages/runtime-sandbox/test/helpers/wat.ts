// Compiles WebAssembly text to binary with the `wabt` npm package (tests only).
import wabtInit from 'wabt';

const wabtPromise = wabtInit();

export async function wat(source: string): Promise<Uint8Array> {
  const wabt = await wabtPromise;
  const mod = wabt.parseWat('test.wat', source, {
    bulk_memory: true,
    reference_types: true,
    multi_value: true,
    sign_extension: true,
    sat_float_to_int: true,
    tail_call: true,
    simd: true,
    threads: true,
    exceptions: true,
    memory64: true,
  });
  try {
    mod.resolveNames();
    mod.validate();
    return new Uint8Array(mod.toBinary({ write_debug_names: true }).buffer);
  } finally {
    mod.destroy();
  }
}

/** A WASI command whose `_start` runs `body`; imports and extra module fields go in `prelude`. */
export function command(prelude: string, body: string, memoryPages = 1): string {
  return `(module
  ${prelude}
  (memory (export "memory") ${memoryPages})
  (func (export "_start") ${body}))`;
}
