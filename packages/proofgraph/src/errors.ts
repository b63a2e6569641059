/** Closed set of error codes thrown by @helm/proofgraph. Match on `code`, never on the message. */
export type ProofGraphErrorCode =
  | 'NODE_INPUT_INVALID'
  | 'PARENT_MISSING'
  | 'DUPLICATE_NODE'
  | 'MERKLE_RANGE'
  | 'CHECKPOINT_INPUT_INVALID'
  | 'STORE_CONFLICT';

export class ProofGraphError extends Error {
  override readonly name = 'ProofGraphError';
  readonly code: ProofGraphErrorCode;
  constructor(code: ProofGraphErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
