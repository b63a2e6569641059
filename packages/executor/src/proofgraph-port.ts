// Adapter from @helm/proofgraph to the executor's ProofGraphPort. Every receipt is appended as its
// own EFFECT node — a receipt node (docs/spec/node.md §Receipt nodes): the node hash is the receipt
// hash, its parent the previous receipt of the chain, and the receipt's signature covers it, so
// recording a governed call in the graph costs no signature. The previous receipt of the chain must
// already be in the graph (a restored graph contains the chain's receipt nodes).
import type { ProofGraph, SignedNode } from '@helm/proofgraph';
import type { ProofGraphPort, ProofGraphRecord } from './governance.js';

export interface ProofGraphPortOptions {
  readonly graph: ProofGraph;
}

export function proofGraphPort(options: ProofGraphPortOptions): ProofGraphPort {
  const { graph } = options;
  return {
    recordReceipt: (record: ProofGraphRecord): SignedNode =>
      graph.appendReceipt({ envelope: record.receipt, body: record.receipt_body, hash: record.receipt_hash }),
  };
}
