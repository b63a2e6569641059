// JSON Schema of evidencepack (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: ../evidencepack.ts.
import {
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  EVIDENCEPACK_PATH_PATTERN,
} from '../evidencepack.js';
import { DIGEST, NAT } from './parts.js';

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
