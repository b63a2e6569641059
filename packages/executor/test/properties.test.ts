// Property tests of the PEP's argument step and the schema error ordering.
import { canonicalBytes, digest } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareArgsText, prepareArgsValue, SchemaCache } from '../src/index.ts';

const json = fc.jsonValue({ maxDepth: 4 });

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const rotated =
    entries.length === 0
      ? entries
      : [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse();
  return Object.fromEntries(rotated.map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
}

describe('PEP properties', () => {
  it('ArgsHash = digest(JCS(args)), for values and their JSON text alike, whatever the key order', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        const v = prepareArgsValue(value);
        if (!v.ok) return false;
        expect(v.args.args_hash).toBe(digest(canonicalBytes(value)));
        const t = prepareArgsText(JSON.stringify(shuffleKeys(value, seed)));
        expect(t.ok && t.args.args_hash).toBe(v.args.args_hash);
        expect(v.args.value).toEqual(JSON.parse(v.args.canonical));
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('schema error lists do not depend on member order', () => {
    const cache = new SchemaCache();
    const schema = cache.compile({
      type: 'object',
      additionalProperties: { type: 'integer' },
      properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'boolean' } } },
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 8 }),
        fc.nat(),
        (value, seed) => {
          const a = schema.validate(value);
          const b = schema.validate(shuffleKeys(value, seed));
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 300 },
    );
  });
});
