// ProofGraph node (`helm.node.v1`): one signed vertex of the append-only ProofGraph DAG.
// Normative: docs/spec/node.md. Produced and validated by @helm/proofgraph.
//
// node hash = digest(canonicalBytes({type, payload, signatures})) of the node's signed envelope.
// `parents` are node hashes in strictly ascending order (no duplicates); roots have no parents and
// lamport 1; every other node has lamport = max(parent lamports) + 1.
import { DIGEST_PATTERN, KEY_ID_PATTERN } from './wire.js';

export const NODE_TYPE = 'helm.node.v1';

/** Node kinds the kernel emits. The set is open: any kind matching NODE_KIND_PATTERN is valid. */
export const NODE_KINDS = ['INTENT', 'ATTESTATION', 'EFFECT', 'TRUST_EVENT', 'CHECKPOINT'] as const;
export type KnownNodeKind = (typeof NODE_KINDS)[number];

/** Upper-case identifier, 1–64 characters. */
export const NODE_KIND_PATTERN = '^[A-Z][A-Z0-9_]{0,63}$';

/** Maximum number of parents of one node. */
export const MAX_NODE_PARENTS = 64;

export interface NodeBody {
  readonly type: typeof NODE_TYPE;
  readonly kind: string;
  /** Parent node hashes, strictly ascending. */
  readonly parents: readonly string[];
  readonly lamport: number;
  readonly principal: string;
  /** digest(JCS(payload)); the payload itself travels beside the envelope and may be withheld. */
  readonly payload_hash: string;
  /** Key id of the node signer (must equal the envelope signature's keyid). */
  readonly keyid: string;
  /** Injected-clock time the node was created. */
  readonly issued_at_ms: number;
}

/** Every field of a ProofGraph node body, all required (the schema and the validator share it). */
export const NODE_FIELDS = [
  'type',
  'kind',
  'parents',
  'lamport',
  'principal',
  'payload_hash',
  'keyid',
  'issued_at_ms',
] as const;

export const nodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.node.v1.json',
  title: 'ProofGraphNode',
  description: 'Signed ProofGraph DAG node (docs/spec/node.md).',
  type: 'object',
  additionalProperties: false,
  required: [...NODE_FIELDS],
  properties: {
    type: { const: NODE_TYPE },
    kind: { type: 'string', pattern: NODE_KIND_PATTERN },
    parents: {
      type: 'array',
      items: { type: 'string', pattern: DIGEST_PATTERN },
      maxItems: MAX_NODE_PARENTS,
      uniqueItems: true,
    },
    lamport: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
    principal: { type: 'string', minLength: 1, maxLength: 1024 },
    payload_hash: { type: 'string', pattern: DIGEST_PATTERN },
    keyid: { type: 'string', pattern: KEY_ID_PATTERN },
    issued_at_ms: { type: 'integer', minimum: 0, maximum: 9007199254740991 },
  },
} as const;
