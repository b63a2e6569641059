// The append-only ProofGraph over a NodeStore: every node is signed — by its own signature, or, for a
// receipt node, by the receipt's — its parents exist, and its lamport is max(parents) + 1.
// Independent sessions form branches; a merge node has several parents.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { Signer } from '@helm/crypto/ed25519';
import type { SignedNode } from './node.js';
import { type NodeInput, signNode } from './node-sign.js';
import { type ReceiptNodeFields, receiptNode } from './receipt-node.js';
import { InMemoryNodeStore, type NodeStore } from './store.js';

export class ProofGraph {
  readonly store: NodeStore;

  constructor(store: NodeStore = new InMemoryNodeStore()) {
    this.store = store;
  }

  /** Sign and append a node. Throws PARENT_MISSING / NODE_INPUT_INVALID / DUPLICATE_NODE. */
  append(input: NodeInput, signer: Signer): SignedNode {
    const node = signNode(input, (h) => this.store.get(h)?.body.lamport, signer);
    this.store.append(node);
    return node;
  }

  /**
   * Append a receipt as its own EFFECT node (docs/spec/node.md §Receipt nodes): no signature is
   * made, the receipt's covers the node. For receipts this process just minted (`body` and `hash`
   * as the minting returned them); verify foreign receipts with `validateGraph` instead. Its
   * parent, the previous receipt of the chain, must already be in the graph.
   */
  appendReceipt(receipt: {
    readonly envelope: SignedEnvelope;
    readonly body: ReceiptNodeFields;
    readonly hash: string;
  }): SignedNode {
    const node = receiptNode(receipt.envelope, receipt.body, receipt.hash);
    this.store.append(node);
    return node;
  }

  get(hash: string): SignedNode | undefined {
    return this.store.get(hash);
  }

  heads(): string[] {
    return this.store.heads();
  }

  rangeByLamport(from: number, to: number): SignedNode[] {
    return this.store.rangeByLamport(from, to);
  }

  get size(): number {
    return this.store.size;
  }
}
