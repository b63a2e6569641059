// Entry point `@helm/proofgraph/verify`: the ProofGraph verifiers — nodes, graphs, checkpoints,
// Merkle proofs and condensed histories — and the types they answer with. Its import closure holds
// no signing, proof construction, log or store code (docs/AUDIT.md §2).
export {
  type CheckpointCheck,
  type CheckpointVerifyCode,
  type ExtensionCheck,
  type SignedCheckpoint,
  verifyCheckpoint,
  verifyCheckpointExtension,
} from './checkpoint.js';
export {
  type CondensedHistoryInput,
  type CondensedVerifyCode,
  type CondensedVerifyResult,
  type HistoryItem,
  type ReceiptVerifierPort,
  verifyCondensedHistory,
} from './condense-verify.js';
export { CHECKPOINT_SIGNER_ROLE, type KeyLookup, nodeSignerRole } from './keys.js';
export { type LogLeafFields, logLeafHash } from './log-leaf.js';
export {
  type MerkleProofCheck,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle-verify.js';
export { type NodeCheck, type NodeVerifyCode, type SignedNode, verifyNode } from './node.js';
export { RECEIPT_NODE_KIND, type ReceiptNodeFields, type ReceiptNodeVerifier } from './receipt-node.js';
export {
  checkGraphItem,
  type GraphItem,
  type GraphItemCheck,
  type GraphLinkOptions,
  type GraphValidateOptions,
  type GraphVerifyCode,
  type GraphVerifyResult,
  type ItemFailure,
  type LinkedNode,
  linkGraph,
  validateGraph,
} from './validate.js';
