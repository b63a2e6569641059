// The precompiled shape validators (src/internal/generated/validators.ts, #25) are exactly what the
// source schemas compile to: the committed file equals a fresh generation from the schemas in this
// checkout, and each generated validator agrees with ajv compiling the same schema at run time with
// the verifier's options on every verdict and every error object (so every shape problem message),
// over an example of each schema, every single-point mutation of it, and arbitrary JSON.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disagreements, exampleOf, mutations } from '../../../scripts/lib/ajv-differential.mjs';
import { generate, OUTPUT, SHAPES_AJV_OPTIONS, shapesAjv } from '../codegen/validators.ts';
import * as generated from '../src/internal/generated/validators.ts';
import { SHAPE_SCHEMAS } from '../src/internal/shape-schemas.ts';

const byId = new Map<string, object>(
  Object.values(SHAPE_SCHEMAS)
    .filter((s): s is typeof s & { $id: string } => '$id' in s)
    .map((s) => [s.$id.split('/').pop() as string, s]),
);
const validators = new Map(Object.entries(generated));

describe('generated shape validators', () => {
  it('the committed file is exactly what the source schemas generate (run `pnpm codegen` if not)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate(SHAPE_SCHEMAS));
    expect(SHAPES_AJV_OPTIONS).toEqual({ strict: true, allErrors: false, allowUnionTypes: true });
    expect([...validators.keys()].sort()).toEqual(
      Object.keys(SHAPE_SCHEMAS)
        .map((k) => `validate_${k}`)
        .sort(),
    );
  });

  for (const [name, schema] of Object.entries(SHAPE_SCHEMAS)) {
    it(`validate_${name} validates exactly as ajv compiling it at run time`, () => {
      const precompiled = validators.get(`validate_${name}`) as (typeof generated)['validate_anyObject'];
      const ajv = shapesAjv();
      for (const [key, s] of Object.entries(SHAPE_SCHEMAS)) if (key !== name) ajv.addSchema(s, key);
      const compiled = ajv.compile(schema);
      const inputs = mutations(exampleOf(schema, byId));
      expect(disagreements(precompiled, compiled, inputs)).toEqual([]);
      fc.assert(
        fc.property(fc.jsonValue(), (v) => disagreements(precompiled, compiled, [v]).length === 0),
        { numRuns: 100 },
      );
    });
  }
});
