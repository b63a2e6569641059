// Public API of @helm/parallel-verify (not TCB): receipt-chain verification on a worker pool.
export {
  ParallelVerifyError,
  type ParallelVerifyOptions,
  ReceiptVerifyPool,
  type ReceiptVerifyPoolOptions,
  verifyReceiptChainParallel,
  workerEntry,
} from './pool.js';
export {
  type EnvelopeVerdict,
  type NodeVerdict,
  packSlice,
  type VerifyTask,
  type VerifyTaskResult,
} from './protocol.js';
