// Public API of @helm/receipts: signed causal receipt chains, their offline verifier and receipt policies.
export { ReceiptChain, type ReceiptChainOptions } from './chain.js';
export { ReceiptError, type ReceiptErrorCode } from './errors.js';
export { type ChainHead, genesisHead, receiptHash } from './head.js';
export {
  type Admission,
  type PreconditionContext,
  type ReceiptPolicy,
  ReceiptPolicySet,
} from './policy.js';
export { type MintedReceipt, mintReceipt, type ReceiptInput } from './receipt.js';
export {
  type Denial,
  type FinalizeOptions,
  type FinalizeResult,
  type GovernedCall,
  ReceiptRecorder,
  type ReceiptRecorderOptions,
  type RecordResult,
  type SuccessReason,
} from './recorder.js';
export { InMemoryReceiptStore, type ReceiptStore, type StoredReceipt } from './store.js';
export {
  type ChainVerifyOptions,
  type ChainVerifyResult,
  type LinkOptions,
  linkReceipts,
  RECEIPT_SIGNER_ROLE,
  type ReceiptCheck,
  type ReceiptFailure,
  type ReceiptKeyLookup,
  type ReceiptSummary,
  type ReceiptVerifyCode,
  type SignatureCheckResult,
  verifyReceipt,
  verifyReceiptChain,
  verifyReceiptSignatures,
} from './verify.js';
