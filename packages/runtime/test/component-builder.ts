// Builds the test components of I-SANDBOX-7 from WAT and WIT with jco's own tooling (the
// wasm-tools component shipped in @bytecodealliance/jco-transpile): `parse` (WAT → core module),
// `componentEmbed` (the world's WIT as a custom section), `componentNew` (core module → component).
// Sources: test/fixtures/components/<world>.wat and tools.wit.
import { readFileSync } from 'node:fs';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';

export type TestWorld = 'upper' | 'files' | 'sockets' | 'http' | 'library';

const source = (file: string): string =>
  readFileSync(new URL(`./fixtures/components/${file}`, import.meta.url), 'utf8');

/** The component of `world` (a new build every call); `edit` may rewrite its WAT first. */
export async function buildComponent(
  world: TestWorld,
  edit: (wat: string) => string = (wat) => wat,
): Promise<Uint8Array> {
  const core = await parse(edit(source(`${world}.wat`)));
  const embedded = await componentEmbed({ binary: core, witSource: source('tools.wit'), world });
  return componentNew(embedded, []);
}
