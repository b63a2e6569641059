// Adapter from @helm/proofgraph to the executor's ProofGraphPort. Every receipt becomes one signed
// `helm.node.v1` node of kind EFFECT ("the recorded outcome of one governed call", allowed or not)
// whose payload is the receipt envelope itself, so `payload_hash` equals the receipt hash and the
// node binds exactly that receipt. The nodes of one executor form a causal line: each node's parent
// is the previous node this port appended (the first one continues from `parents`, if given).
import type { Signer } from '@helm/crypto';
import type { ProofGraph, SignedNode } from '@helm/proofgraph';
import type { ProofGraphPort, ProofGraphRecord } from './governance.js';

/** Node kind of a receipt in the ProofGraph. */
export const RECEIPT_NODE_KIND = 'EFFECT';

export interface ProofGraphPortOptions {
  readonly graph: ProofGraph;
  /** Signs the nodes (needs the `node:EFFECT` role where keys are role-checked). */
  readonly signer: Signer;
  /** Hashes the first node continues from (e.g. the session's ATTESTATION node). */
  readonly parents?: readonly string[];
}

export interface ReceiptGraph extends ProofGraphPort {
  /** The last node this port appended. */
  readonly last: SignedNode | undefined;
}

export function proofGraphPort(options: ProofGraphPortOptions): ReceiptGraph {
  const { graph, signer } = options;
  let parents: readonly string[] = options.parents ?? [];
  let last: SignedNode | undefined;
  return {
    get last() {
      return last;
    },
    recordReceipt(record: ProofGraphRecord): SignedNode {
      const node = graph.append(
        {
          kind: RECEIPT_NODE_KIND,
          parents,
          principal: record.principal,
          payload: record.receipt,
          issued_at_ms: record.issued_at_ms,
        },
        signer,
      );
      last = node;
      parents = [node.hash];
      return node;
    },
  };
}
