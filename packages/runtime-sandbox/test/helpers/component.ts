// The committed jco output for test/fixtures/upper-component.wasm (see test/fixtures/README.md),
// served as a component transpiler: exactly what @bytecodealliance/jco-transpile returned for it.
import { readFileSync } from 'node:fs';
import type { TranspiledComponent } from '../../src/index.ts';

const dir = new URL('../fixtures/upper-component.jco/', import.meta.url);
export const COMPONENT_BYTES = new Uint8Array(
  readFileSync(new URL('../fixtures/upper-component.wasm', import.meta.url)),
);
export const GLUE_URL = new URL('upper-component.js', dir);

export const FIXTURE: TranspiledComponent = {
  js: readFileSync(GLUE_URL, 'utf8'),
  core_modules: Object.fromEntries(
    [
      'upper-component.core.wasm',
      'upper-component.core2.wasm',
      'upper-component.core3.wasm',
      'upper-component.core4.wasm',
    ].map((name) => [name, new Uint8Array(readFileSync(new URL(name, dir)))]),
  ),
  imports: [
    'wasi:cli/environment@0.2.12',
    'wasi:cli/stderr@0.2.12',
    'wasi:cli/stdin@0.2.12',
    'wasi:cli/stdout@0.2.12',
    'wasi:filesystem/preopens@0.2.12',
    'wasi:filesystem/types@0.2.12',
    'wasi:io/error@0.2.12',
    'wasi:io/streams@0.2.12',
  ],
};

export const fixtureTranspiler = async (): Promise<TranspiledComponent> => FIXTURE;
