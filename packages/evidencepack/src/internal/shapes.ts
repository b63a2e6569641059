// Shape validation of every JSON entry before the verifier uses it (docs/spec/evidencepack.md §1):
// the manifest and index.json against their full JSON Schemas (nothing unknown allowed), every
// other entry against the shape of its kind — the envelope wrapper and the body fields this package
// reads; the signed bodies' full rules stay with their own verifiers (receipts, ProofGraph, trust).
// One ajv instance (draft 2020-12, strict); schemas are compiled on first use.
import {
  condensedEntrySchema,
  DIGEST_PATTERN,
  evidencePackEntriesSchema,
  evidencePackManifestSchema,
  SignedEnvelopeSchema,
  trustSnapshotSchema,
} from '@helm/contracts';
import { fromBase64Url } from '@helm/crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { evidencePackIndexSchema } from '../schemas.js';

const ajv = new Ajv2020({ strict: true, allErrors: false, allowUnionTypes: true });

const int = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const str = { type: 'string' } as const;

/** The receipt body fields this package reads (the receipt verifier checks the whole body). */
const receiptFields = {
  type: 'object',
  required: [
    'lamport',
    'chain_id',
    'prev_hash',
    'decision_id',
    'args_hash',
    'verdict',
    'reason_code',
    'tool',
    'principal',
    'keyid',
    'trust_seq',
    'trust_head',
    'request_digest',
  ],
  properties: {
    lamport: int,
    chain_id: str,
    prev_hash: str,
    decision_id: str,
    args_hash: { type: ['string', 'null'] },
    verdict: str,
    reason_code: str,
    tool: str,
    principal: str,
    keyid: str,
    trust_seq: int,
    trust_head: str,
    request_digest: { type: ['string', 'null'] },
  },
} as const;

/** The decision body fields this package (and replay) reads; the signature covers the rest. */
const decisionFields = {
  type: 'object',
  required: ['decision_id', 'verdict', 'reason_code', 'args_hash'],
  properties: {
    decision_id: str,
    verdict: str,
    reason_code: str,
    args_hash: str,
    tool: str,
    principal: str,
    decided_at_ms: int,
  },
} as const;

const nodeDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['envelope'],
  properties: { envelope: { type: 'object' }, payload: {} },
} as const;
const nodeFields = { type: 'object', required: ['lamport'], properties: { lamport: int } } as const;
const anyObject = { type: 'object' } as const;

const consistency = {
  type: 'array',
  items: { type: 'array', maxItems: 64, items: { type: 'string', pattern: DIGEST_PATTERN } },
} as const;

/**
 * `{"request": ExecuteRequest, "clock_ms": n, …}`: the runtime may add fields, and a call recovered
 * after a crash may have no request recorded.
 */
const recordedRequest = {
  type: 'object',
  properties: { request: { type: 'object' }, clock_ms: int, expected_reason_code: str },
} as const;

const compiled = new Map<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
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

/** The JSON body of an envelope whose wrapper is already valid; undefined when it is not JSON. */
export function bodyOf(envelope: { readonly payload: string }): unknown {
  const bytes = fromBase64Url(envelope.payload);
  if (!bytes) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
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
