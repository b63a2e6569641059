// Schema conformance harness: every `*Schema` @helm/schemas exports (its own and the ones it
// re-exports from @helm/contracts/schemas) — must be pure JSON data, compile under ajv's draft 2020-12 strict mode, and follow the `$id`
// convention `https://helm.dev/schemas/<type>.json` (for a typed body, <type> is its `type` const).
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import * as contracts from '../src/index.ts'; // every HELM schema

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
const ID_PATTERN = /^https:\/\/helm\.dev\/schemas\/(helm\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\.v[0-9]+)\.json$/;

type Schema = Record<string, unknown>;

const schemas: [string, Schema][] = Object.entries(contracts)
  .filter(([name]) => name.endsWith('Schema'))
  .map(([name, value]) => [name, value as Schema]);

function newAjv(): Ajv2020 {
  return new Ajv2020({ strict: true, allErrors: true });
}

/** The `type` const of a typed-body schema, if it declares one. */
function typeConst(schema: Schema): string | undefined {
  const props = schema.properties as Record<string, Schema> | undefined;
  const t = props?.type;
  return typeof t?.const === 'string' ? t.const : undefined;
}

describe('HELM schema conformance', () => {
  it('finds the exported schemas (its own and the ones @helm/contracts keeps)', () => {
    const names = schemas.map(([n]) => n);
    for (const own of [
      'EffectSchema',
      'SignedEnvelopeSchema',
      'VerdictSchema',
      'ReasonCodeSchema',
      'policyBundleSchema',
      'receiptSchema',
    ]) {
      expect(names).toContain(own);
    }
  });

  it('every export named *Schema is a schema object', () => {
    for (const [name, schema] of schemas) {
      expect(typeof schema, name).toBe('object');
      expect(schema, name).not.toBeNull();
      expect(Array.isArray(schema), name).toBe(false);
    }
  });

  it.each(schemas)('%s is pure JSON data (survives a JSON round trip unchanged)', (_name, schema) => {
    expect(JSON.parse(JSON.stringify(schema))).toStrictEqual(schema);
  });

  it.each(schemas)('%s declares draft 2020-12 and a conventional $id', (_name, schema) => {
    expect(schema.$schema).toBe(DRAFT_2020_12);
    expect(typeof schema.$id).toBe('string');
    const match = ID_PATTERN.exec(schema.$id as string);
    expect(match, `$id ${String(schema.$id)}`).not.toBeNull();
    const t = typeConst(schema);
    if (t !== undefined) {
      expect(schema.$id).toBe(`https://helm.dev/schemas/${t}.json`);
      // a typed body must always carry its type (the signature domain)
      expect(schema.required as unknown[]).toContain('type');
    }
  });

  it('all $ids are unique', () => {
    const ids = schemas.map(([, s]) => s.$id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(schemas)('%s compiles under ajv 2020 strict mode (with every other schema registered)', (name) => {
    const ajv = newAjv();
    for (const [other, s] of schemas) if (other !== name) ajv.addSchema(s);
    const schema = schemas.find(([n]) => n === name)?.[1];
    expect(() => ajv.compile(schema as Schema)).not.toThrow();
  });

  it('the harness itself rejects a schema that violates strict mode', () => {
    const ajv = newAjv();
    expect(() =>
      ajv.compile({ $schema: DRAFT_2020_12, type: 'object', properties: { a: { typo: 1 } } }),
    ).toThrow();
    expect(ID_PATTERN.test('https://helm.dev/schemas/receipt.json')).toBe(false);
    expect(ID_PATTERN.test('https://helm.dev/schemas/helm.receipt.v1.json')).toBe(true);
  });
});
