// Shape validation of every JSON entry before the verifier uses it (docs/spec/evidencepack.md §1):
// the manifest and index.json against their full JSON Schemas (nothing unknown allowed), every
// other entry against the shape of its kind — the envelope wrapper and the body fields this package
// reads; the signed bodies' full rules stay with their own verifiers (receipts, ProofGraph, trust).
// The validators are ajv standalone code generated at build time from ./shape-schemas.ts (draft
// 2020-12, strict; codegen/validators.ts), so no process compiles a schema (#25).
import { fromBase64Url } from '@helm/crypto';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import * as generated from './generated/validators.js';
import { SHAPE_SCHEMAS } from './shape-schemas.js';

const {
  anyObject,
  condensed: condensedEntrySchema,
  consistency,
  decisionFields,
  entries: evidencePackEntriesSchema,
  envelope: SignedEnvelopeSchema,
  index: evidencePackIndexSchema,
  manifest: evidencePackManifestSchema,
  nodeDocument,
  nodeFields,
  receiptFields,
  recordedRequest,
  trustSnapshot: trustSnapshotSchema,
} = SHAPE_SCHEMAS;

/** The generated validator of each schema of SHAPE_SCHEMAS. */
const compiled = new Map<object, ValidateFunction>(
  Object.entries(SHAPE_SCHEMAS).map(([name, schema]) => [
    schema,
    new Map<string, ValidateFunction>(Object.entries(generated)).get(`validate_${name}`) as ValidateFunction,
  ]),
);
function validator(schema: object): ValidateFunction {
  const fn = compiled.get(schema);
  if (!fn) throw new Error('shapes: a schema without a generated validator (run `pnpm codegen`)');
  return fn;
}

function describe(errors: readonly ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'is invalid';
  const where = e.instancePath || '/';
  const extra =
    e.keyword === 'additionalProperties'
      ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
      : '';
  return `${where} ${e.message ?? 'is invalid'}${extra}`;
}

/** A problem description when `value` does not match `schema`, else undefined. */
export function schemaProblem(schema: object, value: unknown): string | undefined {
  const fn = validator(schema);
  return fn(value) ? undefined : describe(fn.errors);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decoded bodies by envelope object: the verifier reads each envelope's body in several steps
 * (shape, name, bindings, graph), and decoding base64url and parsing the payload each time was a
 * measurable share of verification (#16). Envelopes and their payload strings are never mutated,
 * and the entry dies with its envelope.
 */
const bodies = new WeakMap<object, unknown>();

/** The JSON body of an envelope whose wrapper is already valid; undefined when it is not JSON. */
export function bodyOf(envelope: { readonly payload: string }): unknown {
  const had = bodies.get(envelope);
  if (had !== undefined || bodies.has(envelope)) return had;
  const bytes = fromBase64Url(envelope.payload);
  if (!bytes) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
  bodies.set(envelope, body);
  return body;
}

/** A signed envelope (docs/spec/envelope.md) whose body is JSON of `fields`' shape. */
function envelopeProblem(value: unknown, fields: object): string | undefined {
  const wrapper = schemaProblem(SignedEnvelopeSchema, value);
  if (wrapper) return `not a signed envelope: ${wrapper}`;
  const body = bodyOf(value as { payload: string });
  if (body === undefined) return 'the envelope payload is not base64url JSON';
  const problem = schemaProblem(fields, body);
  return problem && `envelope body ${problem}`;
}

export function manifestEnvelopeProblem(value: unknown): string | undefined {
  const wrapper = schemaProblem(SignedEnvelopeSchema, value);
  return wrapper && `not a signed envelope: ${wrapper}`;
}

export function manifestProblem(body: unknown): string | undefined {
  return schemaProblem(evidencePackManifestSchema, body);
}

export function entriesProblem(value: unknown): string | undefined {
  return schemaProblem(evidencePackEntriesSchema, value);
}

export function trustSnapshotProblem(value: unknown): string | undefined {
  return schemaProblem(trustSnapshotSchema, value);
}

/** The shape rule of an entry kind: the check that owns the entry and its validation. */
export interface EntryShape<Code extends string> {
  readonly code: Code;
  readonly problem: (value: unknown) => string | undefined;
}

/**
 * The kind of a JSON entry by its path (docs/spec/evidencepack.md §3) and the check that reports a
 * wrong shape; undefined for entries the verifier does not read (documents it only hashes).
 */
export function entryShape(
  path: string,
  paths: { readonly index: string; readonly trust: string; readonly consistency: string },
):
  | EntryShape<
      | 'RECEIPT_CHAIN'
      | 'CHECKPOINTS'
      | 'DECISIONS'
      | 'PROOFGRAPH'
      | 'TRUST_SNAPSHOT'
      | 'ARTIFACTS'
      | 'REQUESTS'
    >
  | undefined {
  if (path === paths.index)
    return { code: 'ARTIFACTS', problem: (v) => schemaProblem(evidencePackIndexSchema, v) };
  if (path === paths.trust) return { code: 'TRUST_SNAPSHOT', problem: trustSnapshotProblem };
  if (path === paths.consistency)
    return { code: 'CHECKPOINTS', problem: (v) => schemaProblem(consistency, v) };
  if (path.startsWith('receipts/'))
    return { code: 'RECEIPT_CHAIN', problem: (v) => envelopeProblem(v, receiptFields) };
  if (path.startsWith('condensed/'))
    return { code: 'RECEIPT_CHAIN', problem: (v) => schemaProblem(condensedEntrySchema, v) };
  if (path.startsWith('checkpoints/'))
    return { code: 'CHECKPOINTS', problem: (v) => envelopeProblem(v, anyObject) };
  if (path.startsWith('decisions/'))
    return { code: 'DECISIONS', problem: (v) => envelopeProblem(v, decisionFields) };
  if (path.startsWith('proofgraph/nodes/'))
    return {
      code: 'PROOFGRAPH',
      problem: (v) => {
        const doc = schemaProblem(nodeDocument, v);
        if (doc) return `not a signed node document: ${doc}`;
        const env = envelopeProblem((v as { envelope: unknown }).envelope, nodeFields);
        return env && `node ${env}`;
      },
    };
  if (path.startsWith('requests/'))
    return { code: 'REQUESTS', problem: (v) => schemaProblem(recordedRequest, v) };
  return undefined;
}
