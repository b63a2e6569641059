// The JSON Schemas this package owns — the EvidencePack manifest, entry list and index, and the
// governance event and cursor (moved from @helm/contracts by #23: no TCB package reads or writes
// them) — meet the conformance rules the contracts schemas meet (pure JSON, draft 2020-12, the
// `$id` convention, ajv strict mode), and accept the spec vectors' documents and nothing wider.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  evidencePackEntriesSchema,
  evidencePackIndexSchema,
  evidencePackManifestSchema,
  governanceCursorSchema,
  governanceEventSchema,
} from '../src/index.ts';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
const ID_PATTERN = /^https:\/\/helm\.dev\/schemas\/(helm\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\.v[0-9]+)\.json$/;
type Schema = Record<string, unknown>;

const schemas: [string, Schema][] = Object.entries({
  evidencePackEntriesSchema,
  evidencePackIndexSchema,
  evidencePackManifestSchema,
  governanceCursorSchema,
  governanceEventSchema,
});

describe('EvidencePack and governance schema conformance', () => {
  it.each(schemas)('%s is pure JSON data', (_name, schema) => {
    expect(JSON.parse(JSON.stringify(schema))).toStrictEqual(schema);
  });

  it.each(schemas)('%s declares draft 2020-12 and a conventional, type-matching $id', (_name, schema) => {
    expect(schema.$schema).toBe(DRAFT_2020_12);
    expect(ID_PATTERN.test(String(schema.$id))).toBe(true);
    const t = (schema.properties as Record<string, Schema> | undefined)?.type?.const;
    if (typeof t === 'string') {
      expect(schema.$id).toBe(`https://helm.dev/schemas/${t}.json`);
      expect(schema.required as unknown[]).toContain('type');
    }
  });

  it.each(schemas)('%s compiles under ajv 2020 strict mode', (_name, schema) => {
    expect(() => new Ajv2020({ strict: true, allErrors: true }).compile(schema)).not.toThrow();
  });

  it('the governance schemas accept the spec vectors and refuse an extra field', () => {
    const vectors = JSON.parse(
      readFileSync(new URL('../../../docs/spec/vectors/governance-event.json', import.meta.url), 'utf8'),
    );
    const ajv = new Ajv2020({ strict: true });
    const event = ajv.compile(governanceEventSchema);
    const cursor = ajv.compile(governanceCursorSchema);
    const eventBody = JSON.parse(vectors.event.payload_jcs);
    expect(event(eventBody)).toBe(true);
    expect(event({ ...eventBody, extra: 1 })).toBe(false);
    expect(cursor(vectors.cursor.body)).toBe(true);
    expect(cursor({ ...vectors.cursor.body, trust_seq: 0 })).toBe(false);
  });
});
