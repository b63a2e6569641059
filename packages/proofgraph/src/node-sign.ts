// Signing ProofGraph nodes `helm.node.v1` (normative: docs/spec/node.md §Creation). The body rule
// and the verifier are node.ts.
import { NODE_TYPE, type NodeBody } from '@helm/contracts/node';
import { canonicalDigest } from '@helm/crypto/digests';
import type { Signer } from '@helm/crypto/ed25519';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { isDigest } from '@helm/crypto/hash';
import { ProofGraphError } from './errors.js';
import { envelopeHash } from './internal/envelope-hash.js';
import { nodeBodyProblem, type SignedNode } from './node.js';

export interface NodeInput {
  readonly kind: string;
  /** Parent node hashes in any order; duplicates are an error. */
  readonly parents: readonly string[];
  readonly principal: string;
  readonly payload: unknown;
  /** From the injected clock. */
  readonly issued_at_ms: number;
}

/**
 * Build and sign a node. `parentLamport` resolves each parent's lamport (undefined: missing →
 * PARENT_MISSING). lamport = max(parents) + 1, or 1 for a root.
 */
export function signNode(
  input: NodeInput,
  parentLamport: (hash: string) => number | undefined,
  signer: Signer,
): SignedNode {
  const parents = [...input.parents].sort();
  let lamport = 1;
  for (const p of parents) {
    const l = isDigest(p) ? parentLamport(p) : undefined;
    if (l === undefined) throw new ProofGraphError('PARENT_MISSING', `parent ${p} is not in the graph`);
    lamport = Math.max(lamport, l + 1);
  }
  let payloadHash: string;
  try {
    payloadHash = canonicalDigest(input.payload);
  } catch {
    throw new ProofGraphError('NODE_INPUT_INVALID', 'payload is not representable JSON');
  }
  const body = {
    type: NODE_TYPE,
    kind: input.kind,
    parents,
    lamport,
    principal: input.principal,
    payload_hash: payloadHash,
    keyid: signer.keyId,
    issued_at_ms: input.issued_at_ms,
  } satisfies NodeBody;
  const problem = nodeBodyProblem(body);
  if (problem) throw new ProofGraphError('NODE_INPUT_INVALID', problem);
  const envelope = signEnvelope(body, [signer]);
  return { hash: envelopeHash(envelope), body, envelope, payload: input.payload };
}
