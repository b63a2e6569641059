// The precompiled tool-descriptor validator (src/internal/generated/validators.ts, #25) is exactly
// what the source schema compiles to: the committed file equals a fresh generation, and it agrees
// with ajv compiling the schema at run time with the schema PEP's options (allErrors) on every
// verdict and every error object — and so on the PEP's sorted details — over a valid descriptor,
// every single-point mutation of it, and arbitrary JSON.
import { readFileSync } from 'node:fs';
import { toolDescriptorSchema } from '@helm/contracts/schemas';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disagreements, exampleOf, mutations } from '../../../scripts/lib/ajv-differential.mjs';
import { EXECUTOR_VALIDATORS, executorAjv, generate, OUTPUT } from '../codegen/validators.ts';
import { ExecutorError } from '../src/errors.ts';
import { META_SCHEMA_2020, SCHEMA_PEP_AJV_OPTIONS } from '../src/internal/ajv-options.ts';
import { validateMetaSchema2020, validateToolDescriptor } from '../src/internal/generated/validators.ts';
import { precompiledSchema, SchemaCache } from '../src/schema.ts';

/** Tool-like schemas, valid and not, as a schema PEP sees them. */
const SCHEMAS: unknown[] = [
  toolDescriptorSchema,
  { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false },
  { type: 'array', items: { anyOf: [{ type: 'string', maxLength: 3 }, { const: 1 }] }, uniqueItems: true },
  { $defs: { a: { type: 'string' } }, $ref: '#/$defs/a' },
  { type: 'string', pattern: '^a+$', format: 'uri' },
];

describe('generated validators', () => {
  it('the committed file is exactly what the source schema generates (run `pnpm codegen` if not)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate());
    expect(Object.keys(EXECUTOR_VALIDATORS)).toEqual(['validateToolDescriptor']);
    expect(SCHEMA_PEP_AJV_OPTIONS).toMatchObject({ strict: true, allErrors: true, validateSchema: true });
  });

  it('validateToolDescriptor validates exactly as the schema PEP compiling it at run time', () => {
    const compiled = executorAjv().compile(JSON.parse(JSON.stringify(toolDescriptorSchema)));
    const example = exampleOf(toolDescriptorSchema, new Map());
    expect(compiled(example), JSON.stringify(compiled.errors)).toBe(true);
    const inputs = mutations(example);
    expect(inputs.length).toBeGreaterThan(50);
    expect(disagreements(validateToolDescriptor, compiled, inputs)).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => disagreements(validateToolDescriptor, compiled, [v]).length === 0),
      { numRuns: 200 },
    );
    // The PEP's view (digest, sorted details) is the same as SchemaCache.compile's.
    const pre = precompiledSchema(toolDescriptorSchema, validateToolDescriptor);
    const run = new SchemaCache().compile(toolDescriptorSchema);
    expect(pre.digest).toBe(run.digest);
    for (const input of inputs) expect(pre.validate(input)).toEqual(run.validate(input));
  });

  it('validateMetaSchema2020 validates schemas exactly as ajv’s own meta-schema validator', () => {
    const ajv = executorAjv();
    const meta = ajv.getSchema(META_SCHEMA_2020);
    if (!meta) throw new Error('no meta-schema');
    const inputs = SCHEMAS.flatMap((schema) => mutations(schema));
    expect(inputs.length).toBeGreaterThan(500);
    expect(disagreements(validateMetaSchema2020, meta, inputs)).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => disagreements(validateMetaSchema2020, meta, [v]).length === 0),
      { numRuns: 200 },
    );
  });

  it('SchemaCache compiles, and refuses, every schema exactly as ajv validating schemas itself', {
    timeout: 120_000,
  }, () => {
    const outcome = (compile: () => unknown): string => {
      try {
        compile();
        return 'compiled';
      } catch (error) {
        return (error as Error).message.replace(/^schema does not compile: /, '');
      }
    };
    const inputs = SCHEMAS.flatMap((schema) => mutations(schema)).filter(
      (s) => typeof s === 'object' && s !== null && !Array.isArray(s),
    );
    let refused = 0;
    const cache = new SchemaCache();
    const reference = executorAjv();
    for (const schema of [...inputs, { $schema: META_SCHEMA_2020, type: 'nope' }]) {
      const ours = outcome(() => cache.compile(schema));
      const theirs = outcome(() => reference.compile(JSON.parse(JSON.stringify(schema))));
      expect(ours, JSON.stringify(schema)).toBe(theirs);
      if (ours !== 'compiled') refused += 1;
    }
    expect(refused).toBeGreaterThan(100);
    // Another $schema is ajv's business, as before (an unknown meta-schema is refused).
    expect(() =>
      new SchemaCache().compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' }),
    ).toThrow(ExecutorError);
  });
});
