// JSON Schemas of the EvidencePack format (docs/spec/evidencepack.md): the signed manifest, the
// entry list it binds, and `index.json`. Data for validators: the verifier checks the same rules
// through the generated shape validators (internal/shape-schemas.ts). The format is this package's,
// not the TCB's: no TCB package reads or writes a pack (TCB_POLICY.md §What is in the TCB).
import { DIGEST_PATTERN } from '@helm/contracts';
import { INDEX_TYPE } from './export.js';
import {
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  EVIDENCEPACK_PATH_PATTERN,
} from './manifest.js';

const digestField = { type: 'string', pattern: DIGEST_PATTERN } as const;
/** A non-negative integer every JSON consumer reads exactly (at most 2^53 − 1). */
const NAT = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;
const DIGEST = digestField;

const text = { type: 'string' } as const;
const artifactPath = (dir: string, ext: string) =>
  ({ type: 'string', pattern: `^${dir}/[0-9a-f]{64}\\.${ext}$` }) as const;

export const evidencePackManifestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.evidencepack.manifest.v1.json',
  title: 'EvidencePack manifest',
  description: 'Signed table of contents of a deterministic EvidencePack tar (docs/spec/evidencepack.md).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'format_version', 'producer', 'scope', 'head', 'trust_anchor', 'counts', 'entries'],
  properties: {
    type: { const: EVIDENCEPACK_MANIFEST_TYPE },
    format_version: { const: EVIDENCEPACK_FORMAT_VERSION },
    producer: { type: 'string', minLength: 1, maxLength: 128 },
    scope: {
      type: 'object',
      additionalProperties: false,
      required: ['chain_id', 'session_id', 'from_lamport', 'to_lamport'],
      properties: {
        chain_id: { type: 'string', minLength: 1, maxLength: 128 },
        session_id: { type: ['string', 'null'], maxLength: 256 },
        from_lamport: NAT,
        to_lamport: NAT,
      },
    },
    head: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['lamport', 'hash'],
          properties: { lamport: NAT, hash: DIGEST },
        },
      ],
    },
    trust_anchor: DIGEST,
    counts: {
      type: 'object',
      additionalProperties: false,
      required: ['receipts', 'decisions', 'nodes', 'checkpoints'],
      properties: { receipts: NAT, decisions: NAT, nodes: NAT, checkpoints: NAT },
    },
    entries: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'size', 'sha256', 'root'],
      properties: {
        count: NAT,
        size: NAT,
        sha256: DIGEST,
        root: DIGEST,
      },
    },
  },
} as const;

/** JSON Schema of `manifest/entries.json`: the entry list the manifest binds. */
export const evidencePackEntriesSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.evidencepack.entries.v1.json',
  title: 'EvidencePack entry list',
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'size', 'sha256'],
    properties: {
      path: { type: 'string', pattern: EVIDENCEPACK_PATH_PATTERN, maxLength: 255 },
      size: NAT,
      sha256: DIGEST,
    },
  },
} as const;

/** JSON Schema of `index.json` (`helm.evidencepack.index.v1`, §3): the artifacts in force — policies,
 * tool descriptors, JSON Schemas and WASM modules — each list sorted by path. */
export const evidencePackIndexSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.evidencepack.index.v1.json',
  title: 'EvidencePack index',
  description: 'The artifacts in force in an EvidencePack (docs/spec/evidencepack.md §3).',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'policies', 'tools', 'schemas', 'modules'],
  properties: {
    type: { const: INDEX_TYPE },
    policies: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'name', 'version', 'digest', 'path'],
        properties: {
          kind: text,
          name: text,
          version: text,
          digest: digestField,
          path: artifactPath('policies', 'json'),
        },
      },
    },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'descriptor_digest', 'path', 'input_schema', 'output_schema', 'driver'],
        properties: {
          name: text,
          descriptor_digest: digestField,
          path: artifactPath('tools', 'json'),
          input_schema: digestField,
          output_schema: digestField,
          driver: { type: ['object', 'null'] },
        },
      },
    },
    schemas: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['digest', 'path'],
        properties: { digest: digestField, path: artifactPath('schemas', 'json') },
      },
    },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'digest', 'path'],
        properties: { name: text, digest: digestField, path: artifactPath('modules', 'wasm') },
      },
    },
  },
} as const;
