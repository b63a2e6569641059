// Worker entry of `transpileComponent` (src/component.ts): runs jco's transpiler — the
// js-component-bindgen component shipped in @bytecodealliance/jco-transpile — on one component
// and posts the generated files back. component.ts starts it with an empty environment, no
// arguments, captured stdout/stderr, a heap cap and a deadline, so the transpiler (which reaches
// the host through @bytecodealliance/preview2-shim: environment, exit, stdio, random, a file
// system without preopened directories) sees nothing of helm's environment and cannot end helm's
// process (`exit` in a worker ends the worker). No relative imports: from src/ Node runs this
// file with type stripping.
import { parentPort, workerData } from 'node:worker_threads';
import { $init, type GenerateOptions, generate } from '@bytecodealliance/jco-transpile/component';

const { component, options } = workerData as { component: Uint8Array; options: GenerateOptions };
try {
  await $init;
  const out = generate(component, options);
  parentPort?.postMessage({ files: out.files, imports: out.imports, exports: out.exports });
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
}
