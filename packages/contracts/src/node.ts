// ProofGraph node (`helm.node.v1`): one signed vertex of the append-only ProofGraph DAG.
// Normative: docs/spec/node.md. Produced and validated by @helm/proofgraph.
//
// node hash = digest(canonicalBytes({type, payload, signatures})) of the node's signed envelope.
// `parents` are node hashes in strictly ascending order (no duplicates); roots have no parents and
// lamport 1; every other node has lamport = max(parent lamports) + 1.

export const NODE_TYPE = 'helm.node.v1';

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
