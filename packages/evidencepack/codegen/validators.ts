// Generates src/internal/generated/validators.ts: the precompiled ajv validators of the EvidencePack
// shape checks (#25), with the options the verifier compiled them with at run time. Run after
// changing a schema or the ajv version: `pnpm --filter @helm/evidencepack codegen` (after `pnpm
// build`: the script reads dist/internal/shape-schemas.js). test/generated-validators.test.ts
// regenerates from the source schemas and requires the committed file to be exactly this output.
import { writeFileSync } from 'node:fs';
import { DIGEST_PATTERN, KEY_ID_PATTERN } from '@helm/contracts';
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import { renderValidators } from '../../../scripts/lib/ajv-standalone.mjs';

/** The options shapes.ts compiled with at run time: draft 2020-12, strict, first error only. */
export const SHAPES_AJV_OPTIONS: Options = { strict: true, allErrors: false, allowUnionTypes: true };

/** A run-time ajv instance configured as the generator's (for the differential test). */
export function shapesAjv(code?: Options['code']): Ajv2020 {
  return new Ajv2020({ ...SHAPES_AJV_OPTIONS, ...(code ? { code } : {}) });
}

export function generate(schemas: Readonly<Record<string, object>>): string {
  const ajv = shapesAjv({ source: true, esm: true, lines: true });
  const refs: Record<string, string> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    ajv.addSchema(schema, `validate_${name}`);
    refs[`validate_${name}`] = `validate_${name}`;
  }
  const standaloneCode = (standalone as unknown as { default?: typeof standalone }).default ?? standalone;
  return renderValidators({
    ajv,
    standaloneCode,
    refs,
    generator: 'packages/evidencepack/codegen/validators.ts',
    description: 'The EvidencePack shape checks (src/internal/shape-schemas.ts).',
    constants: {
      DIGEST_PATTERN: { value: DIGEST_PATTERN, module: '@helm/contracts' },
      KEY_ID_PATTERN: { value: KEY_ID_PATTERN, module: '@helm/contracts' },
    },
  });
}

export const OUTPUT = new URL('../src/internal/generated/validators.ts', import.meta.url);

if (import.meta.main) {
  const { SHAPE_SCHEMAS } = await import(new URL('../dist/internal/shape-schemas.js', import.meta.url).href);
  writeFileSync(OUTPUT, generate(SHAPE_SCHEMAS));
}
