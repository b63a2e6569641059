// Receipt nodes (normative: docs/spec/node.md §Receipt nodes). A signed receipt is itself an EFFECT
// node of the ProofGraph: every field of its node view is read from the receipt, so the receipt's
// one signature authenticates the node and no second signature is made per governed call.
//   hash = receipt hash (SHA-256 of the raw signature), kind = EFFECT,
//   parents = [] for lamport 1 (prev_hash = genesis), else [prev_hash],
//   lamport, principal, issued_at_ms, keyid = the receipt's, payload_hash = receipt_id.
// The receipt chain's own rules (prev_hash = previous receipt hash, lamport + 1) are exactly the
// DAG rules for such a node, so a chain is a branch of the graph.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { NODE_TYPE, type NodeBody } from '@helm/contracts/node';
import { RECEIPT_GENESIS_PREV_HASH, RECEIPT_TYPE } from '@helm/contracts/receipt';
import { ProofGraphError } from './errors.js';
import type { SignedNode } from './node.js';

/** Kind of a receipt node. */
export const RECEIPT_NODE_KIND = 'EFFECT';

/** The receipt fields a node view is made of (a verified `helm.receipt.v1` body has them all). */
export interface ReceiptNodeFields {
  readonly receipt_id: string;
  readonly lamport: number;
  readonly prev_hash: string;
  readonly principal: string;
  readonly issued_at_ms: number;
  readonly keyid: string;
}

/**
 * Verifies one receipt envelope completely (structure, canonical payload, body, key for the
 * receipt-signer role at its trust_seq, signature) and returns its body and receipt hash.
 * `verifyReceipt` of @helm/receipts, with the caller's keys, is one.
 */
export type ReceiptNodeVerifier = (
  envelope: unknown,
) =>
  | { readonly ok: true; readonly body: ReceiptNodeFields; readonly summary: { readonly hash: string } }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * The node view of a receipt: `receiptHash` is its receipt hash and `fields` its (verified or
 * just minted) body. The envelope is the receipt itself.
 */
export function receiptNode(
  envelope: SignedEnvelope,
  fields: ReceiptNodeFields,
  receiptHash: string,
): SignedNode {
  if (envelope.type !== RECEIPT_TYPE) {
    throw new ProofGraphError('NODE_INPUT_INVALID', 'a receipt node is a helm.receipt.v1 envelope');
  }
  const root = fields.lamport === 1;
  if (root !== (fields.prev_hash === RECEIPT_GENESIS_PREV_HASH)) {
    throw new ProofGraphError('NODE_INPUT_INVALID', 'lamport 1 exactly when prev_hash is the genesis value');
  }
  const body: NodeBody = {
    type: NODE_TYPE,
    kind: RECEIPT_NODE_KIND,
    parents: root ? [] : [fields.prev_hash],
    lamport: fields.lamport,
    principal: fields.principal,
    payload_hash: fields.receipt_id,
    keyid: fields.keyid,
    issued_at_ms: fields.issued_at_ms,
  };
  return { hash: receiptHash, body, envelope };
}

/** True when `node` is a receipt node (its envelope is the receipt). */
export function isReceiptNode(node: SignedNode): boolean {
  return node.envelope.type === RECEIPT_TYPE;
}
