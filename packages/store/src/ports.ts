// Adapters from the SQLite store to the TCB's synchronous store ports. They are typed
// structurally (no dependency on the TCB packages) and match:
//   @helm/receipts  ReceiptStore      → receiptStorePort
//   @helm/proofgraph NodeStore        → nodeStorePort
//   @helm/guardian  NonceStore        → nonceStorePort
//   @helm/guardian  BudgetLedger      → budgetLedgerPort
//   @helm/executor  IdempotencyStore  → idempotencyStorePort
// Each write is its own transaction. To commit a whole governed call atomically (receipt,
// decision, nodes, request, idempotency record, ledger movements, closing its admission), use
// `admitCall` + `commitCall` with `deferredBudgetLedger` instead (as the CLI does).
import type { SignedEnvelope } from '@helm/contracts';
import { fromBase64Url } from '@helm/crypto';
import { StoreError } from './errors.js';
import { readStoredJson } from './internal/json.js';
import type { SqliteStore } from './sqlite-store.js';
import type { Json, LedgerOp } from './types.js';

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
    const body = readStoredJson<NodePortRecord['body']>(
      decoder.decode(fromBase64Url(doc.envelope.payload)),
      'a stored node payload',
    );
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

/**
 * @helm/guardian `BudgetLedger` whose movements are NOT written on their own: they queue in memory
 * (reads see them) until `drain()` hands them to the transaction of the admission or the governed
 * call they belong to (`admitCall(admission, ledger.drain())`, `commitCall({..., ledger})`). A
 * reservation refunded before it was written leaves no trace (the call never reached admission);
 * one written with an admission is resolved by that call's receipt transaction or by recovery.
 * Single writer: one process owns the store's ledger while this port is in use.
 */
export interface DeferredBudgetLedger {
  reserve(
    charges: readonly { readonly account: string; readonly ceiling: number }[],
    amount: number,
  ): string | null;
  commit(id: string): void;
  refund(id: string): void;
  /** Queue an administrative reset of `account` (its `spent` back to 0; reservations stay). */
  reset(account: string): void;
  state(account: string): { spent: number; reserved: number };
  /**
   * Take the queued movements (oldest first) — all, or only those of the given reservation ids
   * (resets are taken only by a full drain) — for the caller to write in its transaction.
   */
  drain(only?: readonly string[]): LedgerOp[];
  /** Number of queued movements. */
  readonly pending: number;
}

export function deferredBudgetLedger(store: SqliteStore): DeferredBudgetLedger {
  let ops: LedgerOp[] = [];
  let counter: number | undefined;
  const reservation = (id: string): { accounts: readonly string[]; amount: number } | undefined => {
    if (ops.some((o) => (o.op === 'commit' || o.op === 'refund') && o.id === id)) return undefined; // already settled
    const queued = ops.find(
      (o): o is Extract<LedgerOp, { op: 'reserve' }> => o.op === 'reserve' && o.id === id,
    );
    if (queued) return { accounts: queued.charges.map((c) => c.account), amount: queued.amount };
    return store.ledgerReservationSync(id);
  };
  const state = (account: string): { spent: number; reserved: number } => {
    const a = { ...store.ledgerStateSync(account) };
    for (const o of ops) {
      if (o.op === 'reserve') {
        if (o.charges.some((c) => c.account === account)) a.reserved += o.amount;
        continue;
      }
      if (o.op === 'reset') {
        if (o.account === account) a.spent = 0;
        continue;
      }
      const held =
        ops.find((r): r is Extract<LedgerOp, { op: 'reserve' }> => r.op === 'reserve' && r.id === o.id) ??
        undefined;
      const r = held
        ? { accounts: held.charges.map((c) => c.account), amount: held.amount }
        : store.ledgerReservationSync(o.id);
      if (r?.accounts.includes(account)) {
        a.reserved -= r.amount;
        if (o.op === 'commit') a.spent += r.amount;
      }
    }
    return a;
  };
  const settle = (id: string, op: 'commit' | 'refund'): void => {
    if (!reservation(id)) throw new StoreError('STORE_RESERVATION_UNKNOWN', `no open reservation ${id}`);
    const queued = ops.findIndex((o) => o.op === 'reserve' && o.id === id);
    if (op === 'refund' && queued >= 0) ops.splice(queued, 1);
    else ops.push({ op, id });
  };
  return {
    reserve(charges, amount) {
      if (!Number.isSafeInteger(amount) || amount < 0) {
        throw new StoreError('STORE_INVALID_RECORD', 'amount must be a non-negative integer');
      }
      for (const c of charges) {
        const a = state(c.account);
        if (a.spent + a.reserved + amount > c.ceiling) return null;
      }
      counter = Math.max(counter ?? 0, store.ledgerCounterSync()) + 1;
      const id = `budget-res-${counter}`;
      ops.push({
        op: 'reserve',
        id,
        charges: charges.map((c) => ({ account: c.account, ceiling: c.ceiling })),
        amount,
      });
      return id;
    },
    commit: (id) => settle(id, 'commit'),
    refund: (id) => settle(id, 'refund'),
    reset(account) {
      if (typeof account !== 'string' || account.length === 0)
        throw new StoreError('STORE_INVALID_RECORD', 'a budget account is a non-empty string');
      ops.push({ op: 'reset', account });
    },
    state,
    drain(only) {
      const mine = (o: LedgerOp): boolean => o.op !== 'reset' && only !== undefined && only.includes(o.id);
      const take = only === undefined ? ops : ops.filter(mine);
      ops = only === undefined ? [] : ops.filter((o) => !mine(o));
      return take;
    },
    get pending() {
      return ops.length;
    },
  };
}

/** @helm/guardian `BudgetLedger`: persistent, atomic reserve → commit | refund, each movement its
 * own transaction (use `deferredBudgetLedger` to write movements with the governed call instead). */
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
