// receiptSchema / nodeSchema / checkpointSchema / condensedEntrySchema / logLeafSchema accept the
// published vectors (docs/spec/{receipt,node,checkpoint,condensed-entry}.md) and reject edits.
import { readFileSync } from 'node:fs';
import { CHECKPOINT_FIELDS, CONDENSED_ENTRY_FIELDS, NODE_FIELDS, RECEIPT_FIELDS } from '@helm/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  checkpointSchema,
  condensedEntrySchema,
  logLeafSchema,
  nodeSchema,
  RECEIPT_SCHEMA_VALIDATOR_OPTIONS,
  receiptSchema,
} from '../src/index.ts';

const read = (p: string) => JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8'));
const R = read('../../receipts/test/vectors/receipt.v1.json');
const N = read('../../proofgraph/test/vectors/node.v1.json');
const C = read('../../proofgraph/test/vectors/checkpoint.v1.json');
const ajv = new Ajv2020({ strict: true, allErrors: true, ...RECEIPT_SCHEMA_VALIDATOR_OPTIONS });

const cases = [
  ['receipt', receiptSchema, R.receipts.map((r: { body: unknown }) => r.body)],
  ['node', nodeSchema, N.nodes.map((n: { body: unknown }) => n.body)],
  ['checkpoint', checkpointSchema, [C.checkpoint.body]],
  ['condensed', condensedEntrySchema, [C.condensed]],
  [
    'log leaf',
    logLeafSchema,
    C.leaves.map((l: { fields: object }) => ({ type: 'helm.log_leaf.v1', ...l.fields })),
  ],
] as const;

describe('receipt / proof schemas', () => {
  it.each([
    ['receipt', receiptSchema, RECEIPT_FIELDS],
    ['node', nodeSchema, NODE_FIELDS],
    ['checkpoint', checkpointSchema, CHECKPOINT_FIELDS],
    ['condensed entry', condensedEntrySchema, CONDENSED_ENTRY_FIELDS],
  ] as const)(
    'the %s schema requires exactly its exported field list and defines no other property',
    (_n, schema, fields) => {
      expect([...schema.required].sort()).toEqual([...fields].sort());
      expect(Object.keys(schema.properties).sort()).toEqual([...fields].sort());
    },
  );

  it.each(cases)('%s schema accepts the published vectors and rejects edits', (_name, schema, docs) => {
    const validate = ajv.compile(schema);
    for (const doc of docs as Record<string, unknown>[]) {
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
      expect(validate({ ...doc, extra: 1 })).toBe(false);
      expect(validate({ ...doc, type: 'helm.other.v1' })).toBe(false);
      const { type: _t, ...withoutType } = doc;
      expect(validate(withoutType)).toBe(false);
    }
  });

  it('receipt schema: nullable digests, evidence shape, lamport bounds', () => {
    const validate = ajv.compile(receiptSchema);
    const body = R.receipts[1].body;
    expect(validate({ ...body, effect_id: null, args_hash: null })).toBe(true);
    expect(validate({ ...body, output_hash: 'sha256:xyz' })).toBe(false);
    expect(validate({ ...body, evidence: { Bad: 'x' } })).toBe(false);
    expect(validate({ ...body, evidence: { ok: ['a', 'b'] } })).toBe(true);
    expect(validate({ ...body, evidence: { ok: [1] } })).toBe(false);
    expect(validate({ ...body, lamport: 0 })).toBe(false);
    expect(validate({ ...body, session_id: '' })).toBe(false);
    // the trust binding and the request digest (docs/spec/receipt.md §Trust binding)
    expect(validate({ ...body, request_digest: null })).toBe(true);
    expect(validate({ ...body, request_digest: 'sha256:12' })).toBe(false);
    expect(validate({ ...body, trust_seq: 0 })).toBe(false);
    expect(validate({ ...body, trust_seq: 1.5 })).toBe(false);
    expect(validate({ ...body, trust_head: null })).toBe(false);
    const { trust_seq: _s, ...withoutSeq } = body;
    expect(validate(withoutSeq)).toBe(false);
  });

  it('receipt schema string lengths count UTF-16 code units with RECEIPT_SCHEMA_VALIDATOR_OPTIONS (the verifier rule)', () => {
    expect(RECEIPT_SCHEMA_VALIDATOR_OPTIONS).toEqual({ unicode: false });
    const validate = ajv.compile(receiptSchema);
    const body = R.receipts[1].body;
    // tool ≤ 256: 128 × U+1F600 is 256 code units, 129 is 258 code units (but only 129 code points)
    expect(validate({ ...body, tool: '\u{1F600}'.repeat(128) })).toBe(true);
    expect(validate({ ...body, tool: '\u{1F600}'.repeat(129) })).toBe(false);
    expect(validate({ ...body, evidence: { k: '\u{1F600}'.repeat(2049) } })).toBe(false);
    // ajv's default counts code points and would accept it: the options matter
    const byCodePoints = new Ajv2020({ strict: true }).compile(receiptSchema);
    expect(byCodePoints({ ...body, tool: '\u{1F600}'.repeat(129) })).toBe(true);
  });
});
