// Adapters from the SQLite store to the TCB's synchronous store ports. They are typed
// structurally (no dependency on the TCB packages) and match:
//   @helm/receipts  ReceiptStore      → receiptStorePort
//   @helm/proofgraph NodeStore        → nodeStorePort
//   @helm/guardian  NonceStore        → nonceStorePort
//   @helm/guardian  BudgetLedger      → budgetLedgerPort
//   @helm/executor  IdempotencyStore  → idempotencyStorePort
// Each write is its own transaction. To commit a whole governed call atomically (receipt,
// decision, nodes, request, idempotency record), use `commitCall` instead (as the CLI does).
import type { SignedEnvelope } from '@helm/contracts';
import { fromBase64Url } from '@helm/crypto';
import type { SqliteStore } from './sqlite-store.js';
import type { Json } from './types.js';

export interface ReceiptPortRecord {
  readonly chain_id: string;
  readonly lamport: number;
  readonly receipt_id: string;
  readonly hash: string;
  readonly prev_hash: string;
  readonly envelope: SignedEnvelope;
}

export function receiptStorePort(store: SqliteStore, sessionId?: string) {
  return {
    append(r: ReceiptPortRecord): void {
      store.commitCallSync({
        sessionId: sessionId ?? r.chain_id,
        chainId: r.chain_id,
        receipt: {
          id: r.receipt_id,
          lamport: r.lamport,
          prevHash: r.prev_hash,
          hash: r.hash,
          envelope: r.envelope,
        },
      });
    },
    head(chainId: string): { chain_id: string; lamport: number; hash: string } | undefined {
      const h = store.chainHeadSync(chainId);
      return h ? { chain_id: chainId, lamport: h.lamport, hash: h.hash } : undefined;
    },
    range(chainId: string, from: number, to: number): SignedEnvelope[] {
      return store.receiptsSync({ chainId, fromLamport: from, toLamport: to }).map((r) => r.envelope);
    },
  };
}

export interface NodePortRecord {
  readonly hash: string;
  readonly body: { readonly kind: string; readonly lamport: number; readonly parents: readonly string[] };
  readonly envelope: SignedEnvelope;
  readonly payload?: unknown;
}

const decoder = new TextDecoder();

export function nodeStorePort(store: SqliteStore, sessionId = 'proofgraph') {
  const toNode = (id: string): NodePortRecord | undefined => {
    const n = store.nodeSync(id);
    if (!n) return undefined;
    const doc = n.body as unknown as { envelope: SignedEnvelope; payload?: unknown };
    const body = JSON.parse(decoder.decode(fromBase64Url(doc.envelope.payload))) as NodePortRecord['body'];
    return {
      hash: n.id,
      body,
      envelope: doc.envelope,
      ...('payload' in doc ? { payload: doc.payload } : {}),
    };
  };
  return {
    append(node: NodePortRecord): void {
      const doc =
        node.payload === undefined
          ? { envelope: node.envelope }
          : { envelope: node.envelope, payload: node.payload };
      store.appendNodeSync(sessionId, {
        id: node.hash,
        kind: node.body.kind,
        lamport: node.body.lamport,
        parents: node.body.parents,
        body: doc as unknown as Json,
      });
    },
    get: toNode,
    heads: (): string[] => store.nodeHeadsSync(),
    rangeByLamport(from: number, to: number): NodePortRecord[] {
      return store
        .nodesSync()
        .filter((n) => n.lamport >= from && n.lamport <= to)
        .sort((a, b) => a.lamport - b.lamport || (a.id < b.id ? -1 : 1))
        .map((n) => toNode(n.id) as NodePortRecord);
    },
    get size(): number {
      return store.nodeCountSync();
    },
  };
}

/** @helm/guardian `BudgetLedger`: persistent, atomic reserve → commit | refund. */
export function budgetLedgerPort(store: SqliteStore) {
  return {
    reserve: (charges: readonly { readonly account: string; readonly ceiling: number }[], amount: number) =>
      store.ledgerReserveSync(charges, amount),
    commit: (id: string): void => store.ledgerCommitSync(id),
    refund: (id: string): void => store.ledgerRefundSync(id),
    state: (account: string) => store.ledgerStateSync(account),
  };
}

export function nonceStorePort(store: SqliteStore, scope: string) {
  return {
    has: (key: string): boolean => store.nonceUsedSync(scope, key),
    consume: (key: string): boolean => store.consumeNonceSync(scope, key),
  };
}

export function idempotencyStorePort<R extends { readonly key: string; readonly receipt_hash: string }>(
  store: SqliteStore,
) {
  return {
    get: (key: string): R | undefined => store.idempotencySync(key) as unknown as R | undefined,
    put: (record: R): void => {
      store.putIdempotencySync(record.key, record.receipt_hash, record as unknown as Json);
    },
  };
}
