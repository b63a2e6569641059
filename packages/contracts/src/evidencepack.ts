// EvidencePack manifest (`helm.evidencepack.manifest.v1`): the signed table of contents of a
// deterministic EvidencePack tar (normative: docs/spec/evidencepack.md). It travels as the
// SignedEnvelope `manifest.json`. The entry list (every other entry's path, size and digest, sorted
// bytewise by path) is not inlined: it is the entry `manifest/entries.json`, bound by its size,
// SHA-256 and RFC 9162 Merkle root in the signed body, so the signed manifest has a fixed size
// whatever the number of entries.
import { DIGEST_PATTERN } from './wire.js';

export const EVIDENCEPACK_MANIFEST_TYPE = 'helm.evidencepack.manifest.v1';

/** The EvidencePack format version this manifest type describes. */
export const EVIDENCEPACK_FORMAT_VERSION = 1;

/** Entry path pattern: lowercase relative POSIX path of safe segments. */
export const EVIDENCEPACK_PATH_PATTERN = '^(?:[a-z0-9][a-z0-9._@+-]*/)*[a-z0-9][a-z0-9._@+-]*$';

export interface EvidencePackEntry {
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** `digest(bytes)`: `sha256:<hex>` of the entry's exact bytes. */
  readonly sha256: string;
}

/** Where the entry list lives: a JCS array of `EvidencePackEntry`, sorted bytewise by path. */
export const EVIDENCEPACK_ENTRIES_PATH = 'manifest/entries.json';

/**
 * The signed binding of the entry list `manifest/entries.json` (docs/spec/evidencepack.md §4):
 * its entry count, byte size, SHA-256, and the RFC 9162 Merkle tree hash over the leaves
 * `JCS({path, size, sha256})` of the entries in list order (an entry is provable by an inclusion
 * proof against `root` without the whole list).
 */
export interface EvidencePackEntriesRef {
  readonly count: number;
  readonly size: number;
  readonly sha256: string;
  readonly root: string;
}

export interface EvidencePackScope {
  readonly chain_id: string;
  /** Session the export selected, or null for a whole-chain / Lamport-range export. */
  readonly session_id: string | null;
  /**
   * Inclusive Lamport range of the receipts in the pack. (Trust state is not mapped from Lamport
   * values: every receipt names its own `trust_seq` and `trust_head` under its signature.)
   */
  readonly from_lamport: number;
  readonly to_lamport: number;
}

export interface EvidencePackManifest {
  readonly type: typeof EVIDENCEPACK_MANIFEST_TYPE;
  readonly format_version: typeof EVIDENCEPACK_FORMAT_VERSION;
  /** Producer name and version, e.g. `helm-ts/0.1.0`. */
  readonly producer: string;
  readonly scope: EvidencePackScope;
  /** Last receipt of the pack: a verifier holding an expected head detects truncation. */
  readonly head: { readonly lamport: number; readonly hash: string } | null;
  /** Digest of the trust registry's genesis event (the anchor a verifier pins). */
  readonly trust_anchor: string;
  /** Counts, for humans and quick sanity checks (verified against the entries). */
  readonly counts: {
    readonly receipts: number;
    readonly decisions: number;
    readonly nodes: number;
    readonly checkpoints: number;
  };
  /** The entry list, bound by digest (the list is `manifest/entries.json`). */
  readonly entries: EvidencePackEntriesRef;
}

const int = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;

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
        from_lamport: int,
        to_lamport: int,
      },
    },
    head: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['lamport', 'hash'],
          properties: { lamport: int, hash: { type: 'string', pattern: DIGEST_PATTERN } },
        },
      ],
    },
    trust_anchor: { type: 'string', pattern: DIGEST_PATTERN },
    counts: {
      type: 'object',
      additionalProperties: false,
      required: ['receipts', 'decisions', 'nodes', 'checkpoints'],
      properties: { receipts: int, decisions: int, nodes: int, checkpoints: int },
    },
    entries: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'size', 'sha256', 'root'],
      properties: {
        count: int,
        size: int,
        sha256: { type: 'string', pattern: DIGEST_PATTERN },
        root: { type: 'string', pattern: DIGEST_PATTERN },
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
      size: int,
      sha256: { type: 'string', pattern: DIGEST_PATTERN },
    },
  },
} as const;
