// Public API of @helm/proofgraph: ProofGraph DAG, RFC 9162 Merkle checkpoints, proof condensation.
// `@helm/proofgraph/verify` (verify.ts) is the verifier subset, without signing or proof building.

export {
  type CheckpointCheck,
  type CheckpointVerifyCode,
  type ExtensionCheck,
  type SignedCheckpoint,
  verifyCheckpoint,
  verifyCheckpointExtension,
} from './checkpoint.js';
export { type CheckpointInput, signCheckpoint } from './checkpoint-sign.js';
export { type Condensation, condenseHistory, type ReceiptRef } from './condense.js';
export {
  type CondensedHistoryInput,
  type CondensedVerifyCode,
  type CondensedVerifyResult,
  type HistoryItem,
  type ReceiptVerifierPort,
  verifyCondensedHistory,
} from './condense-verify.js';
export { ProofGraphError, type ProofGraphErrorCode } from './errors.js';
export { MerkleFrontier } from './frontier.js';
export { ProofGraph } from './graph.js';
export { CHECKPOINT_SIGNER_ROLE, type KeyLookup, nodeSignerRole } from './keys.js';
export { InMemoryLeafHashStore, type LeafHashStore } from './leaf-store.js';
export { MerkleLog, type MerkleLogOptions } from './log.js';
export { type LogEntry, type LogLeafFields, logLeafData, logLeafHash } from './log-leaf.js';
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
export {
  type MerkleProofCheck,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle-verify.js';
export { type NodeCheck, type NodeVerifyCode, type SignedNode, verifyNode } from './node.js';
export { type NodeInput, signNode } from './node-sign.js';
export {
  isReceiptNode,
  RECEIPT_NODE_KIND,
  type ReceiptNodeFields,
  type ReceiptNodeVerifier,
  receiptNode,
} from './receipt-node.js';
export { InMemoryNodeStore, type NodeStore } from './store.js';
export {
  type GraphItem,
  type GraphValidateOptions,
  type GraphVerifyCode,
  type GraphVerifyResult,
  validateGraph,
} from './validate.js';
