// Public API of @helm/proofgraph: ProofGraph DAG, RFC 9162 Merkle checkpoints, proof condensation.
export { ProofGraphError, type ProofGraphErrorCode } from './errors.js';
export { MerkleFrontier } from './frontier.js';
export { InMemoryLeafHashStore, type LeafHashStore } from './leaf-store.js';
export {
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  type LeafHashSource,
  leafHashSource,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  rootFromInclusionProof,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
