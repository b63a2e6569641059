// Public API of @helm/proofgraph: ProofGraph DAG, RFC 9162 Merkle checkpoints, proof condensation.

export {
  type CheckpointCheck,
  type CheckpointInput,
  type CheckpointVerifyCode,
  type ExtensionCheck,
  type SignedCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
  verifyCheckpointExtension,
} from './checkpoint.js';
export {
  type Condensation,
  type CondensedHistoryInput,
  type CondensedVerifyCode,
  type CondensedVerifyResult,
  condenseHistory,
  type HistoryItem,
  type ReceiptRef,
  type ReceiptVerifierPort,
  verifyCondensedHistory,
} from './condense.js';
export { ProofGraphError, type ProofGraphErrorCode } from './errors.js';
export { MerkleFrontier } from './frontier.js';
export { ProofGraph } from './graph.js';
export { CHECKPOINT_SIGNER_ROLE, type KeyLookup, nodeSignerRole } from './keys.js';
export { InMemoryLeafHashStore, type LeafHashStore } from './leaf-store.js';
export {
  type LogEntry,
  type LogLeafFields,
  logLeafData,
  logLeafHash,
  MerkleLog,
  type MerkleLogOptions,
} from './log.js';
export {
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  type LeafHashSource,
  leafHashSource,
  type MerkleProofCheck,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  rootFromInclusionProof,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export {
  type NodeCheck,
  type NodeInput,
  type NodeVerifyCode,
  type SignedNode,
  signNode,
  verifyNode,
} from './node.js';
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
