// The precompiled validators (src/internal/generated/validators.ts, #25) are exactly what the
// source schemas compile to: the committed file equals a fresh generation from the schemas in this
// checkout, and each generated validator agrees with ajv compiling the same schema at run time, with
// the same options, on every verdict and every error object — over a valid example of each schema
// and every single-point mutation of it, and over arbitrary JSON.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disagreements, exampleOf, mutations } from '../../../scripts/lib/ajv-differential.mjs';
import {
  GUARDIAN_AJV_OPTIONS,
  GUARDIAN_REFERENCED,
  GUARDIAN_VALIDATORS,
  generate,
  guardianAjv,
  OUTPUT,
} from '../codegen/validators.ts';
import * as generated from '../src/internal/generated/validators.ts';

const byId = new Map(
  [...Object.values(GUARDIAN_VALIDATORS), ...GUARDIAN_REFERENCED].map((s) => [s.$id.split('/').pop(), s]),
);

describe('generated validators', () => {
  it('the committed file is exactly what the source schemas generate (run `pnpm codegen` if not)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate());
    // Generation is deterministic.
    expect(generate()).toBe(generate());
  });

  it('are generated with the options the guardian used at run time: strict, first error only', () => {
    expect(GUARDIAN_AJV_OPTIONS).toEqual({ strict: true, allErrors: false });
    expect(Object.keys(generated).sort()).toEqual(Object.keys(GUARDIAN_VALIDATORS).sort());
  });

  for (const [name, schema] of Object.entries(GUARDIAN_VALIDATORS)) {
    it(`${name} validates exactly as ajv compiling ${schema.$id} at run time`, () => {
      const precompiled = new Map(Object.entries(generated)).get(name) as (typeof generated)['validateP0'];
      const compiled = guardianAjv().compile(schema);
      const example = exampleOf(schema, byId);
      expect(compiled(example), JSON.stringify(compiled.errors)).toBe(true);
      const inputs = mutations(example);
      expect(inputs.length).toBeGreaterThan(50);
      expect(disagreements(precompiled, compiled, inputs)).toEqual([]);
      fc.assert(
        fc.property(fc.jsonValue(), (value) => disagreements(precompiled, compiled, [value]).length === 0),
        { numRuns: 200 },
      );
    });
  }
});
