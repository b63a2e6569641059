// Public API of @helm/proofgraph: ProofGraph DAG, RFC 9162 Merkle checkpoints, proof condensation.
// Every verifier comes from the verifier entry point (`@helm/proofgraph/verify`, verify.ts), so the
// root surface is that one plus signing, proof building, logs and stores.
export { type CheckpointInput, signCheckpoint } from './checkpoint-sign.js';
export { type Condensation, condenseHistory, type ReceiptRef } from './condense.js';
export { ProofGraphError, type ProofGraphErrorCode } from './errors.js';
export { MerkleFrontier } from './frontier.js';
export { ProofGraph } from './graph.js';
export { InMemoryLeafHashStore, type LeafHashStore } from './leaf-store.js';
export { MerkleLog, type MerkleLogOptions } from './log.js';
export { type LogEntry, logLeafData } from './log-leaf.js';
export {
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  type LeafHashSource,
  leafHashSource,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  subtreeHash,
} from './merkle.js';
export { type NodeInput, signNode } from './node-sign.js';
export { isReceiptNode, receiptNode } from './receipt-node.js';
export { InMemoryNodeStore, type NodeStore } from './store.js';
export * from './verify.js';
