// Generates src/internal/generated/validators.ts: the executor's precompiled ajv validator of the
// tool descriptor schema (#25), with the schema PEP's options. Run after changing the schema or the
// ajv version: `pnpm --filter @helm/executor codegen` (reads the built @helm/contracts).
// test/generated-validators.test.ts regenerates from the source schema and requires the committed
// file to be exactly this output. Tool input/output schemas are data, compiled once per process
// by SchemaCache.
import { writeFileSync } from 'node:fs';
import { toolDescriptorSchema } from '@helm/contracts/schemas';
import { DIGEST_PATTERN, KEY_ID_PATTERN } from '@helm/contracts/wire';
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import { renderValidators } from '../../../scripts/lib/ajv-standalone.mjs';
import { META_SCHEMA_2020, SCHEMA_PEP_AJV_OPTIONS } from '../src/internal/ajv-options.ts';

export const EXECUTOR_VALIDATORS = { validateToolDescriptor: toolDescriptorSchema } as const;

// The draft 2020-12 meta-schema (META_SCHEMA_2020), which ajv compiles with the instance's options
// the first time it validates a schema, is precompiled too: the first tool schema does not pay it.

/** A run-time ajv instance configured as SchemaCache's (for the differential test). */
export function executorAjv(code?: Options['code']): Ajv2020 {
  return new Ajv2020({ ...SCHEMA_PEP_AJV_OPTIONS, ...(code ? { code } : {}) });
}

export function generate(): string {
  const ajv = executorAjv({ source: true, esm: true, lines: true });
  const refs: Record<string, string> = {};
  for (const [name, schema] of Object.entries(EXECUTOR_VALIDATORS)) {
    ajv.addSchema(schema, name);
    refs[name] = name;
  }
  refs.validateMetaSchema2020 = META_SCHEMA_2020;
  const standaloneCode = (standalone as unknown as { default?: typeof standalone }).default ?? standalone;
  return renderValidators({
    ajv,
    standaloneCode,
    refs,
    generator: 'packages/executor/codegen/validators.ts',
    description: 'The tool descriptor schema and the 2020-12 meta-schema, with the schema PEP options.',
    constants: {
      DIGEST_PATTERN: { value: DIGEST_PATTERN, module: '@helm/contracts/wire' },
      KEY_ID_PATTERN: { value: KEY_ID_PATTERN, module: '@helm/contracts/wire' },
    },
  });
}

export const OUTPUT = new URL('../src/internal/generated/validators.ts', import.meta.url);

if (import.meta.main) writeFileSync(OUTPUT, generate());
