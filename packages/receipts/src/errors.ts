/** Closed set of error codes thrown by @helm/receipts. Match on `code`, never on the message. */
export type ReceiptErrorCode =
  | 'RECEIPT_INPUT_INVALID'
  | 'CHAIN_HEAD_MOVED'
  | 'POLICY_INVALID'
  | 'STORE_CONFLICT';

export class ReceiptError extends Error {
  override readonly name = 'ReceiptError';
  readonly code: ReceiptErrorCode;
  constructor(code: ReceiptErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
