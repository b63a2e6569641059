// The decision's shared state on the async store port (docs/spec/multi-node.md §3.1): the
// guardian decides synchronously, so what it consults — the budget ledger, delegation nonces — is
// read from the store before the decision (awaited) and answered from memory during it. The store
// stays the authority: a reservation is re-checked against its ceiling under the account's row
// lock when its admission is written (`STORE_BUDGET_EXCEEDED`), and a nonce is burned by the
// store's primary key before the admission (`STORE_NONCE_REUSED`), so two nodes deciding on
// views of the same instant can never both spend the last unit or both use one nonce: the loser's
// call fails before its driver runs. The views here only decide which of those outcomes is a
// policy denial with a receipt (the common case on one node: exact, like the embedded store) and
// which is a store refusal (a race with another node since the last read).
import type { NonceStore } from '@helm/guardian';
import {
  type DeferredBudgetLedger,
  type LedgerOp,
  type LedgerSnapshot,
  type RuntimeStore,
  StoreError,
} from '@helm/store';

/** One reservation this view made, or settled after reading it from the store. */
interface Own {
  readonly accounts: readonly string[];
  readonly amount: number;
  /** The movement that settles it, once the call queued one. */
  settle: 'commit' | 'refund' | undefined;
  /** The view generation at which its admission was known durable (undefined: not yet). */
  durableAt: number | undefined;
}

/**
 * The guardian's budget ledger on an async store: movements queue in memory (as with
 * `deferredBudgetLedger`) until the admission or receipt transaction they belong to takes them;
 * reads combine the last `ledgerSnapshot` with this view's own movements the snapshot does not
 * contain yet.
 */
export interface PortBudgetLedger extends DeferredBudgetLedger {
  /** Re-read the accounts this view has seen and this node's open reservations (one snapshot). */
  refresh(): Promise<void>;
  /** The admission holding these reservations committed: the store has them. */
  durable(ids: readonly string[]): void;
  /** The admission holding these reservations failed: they never existed. */
  forget(ids: readonly string[]): void;
}

const zero = (): { spent: number; reserved: number } => ({ spent: 0, reserved: 0 });

/**
 * Build the view and read its first snapshot (every account: a node's first decisions see what
 * the cluster spent before it started). `reservationId(n)` names the n-th reservation of this
 * view; it must be unique in the database across nodes and opens (e.g. chain id + epoch + n).
 */
export async function openPortBudgetLedger(
  store: RuntimeStore,
  reservationId: (n: number) => string,
  options: {
    /**
     * An account no decision consulted for this long (and holding no reservation of this view)
     * is no longer read (default two hours): budget windows move on to new accounts, and a
     * long-running node must not read every account it ever saw (I-SCALE-1). One consulted again
     * after that is read from its next decision on; the first decision sees it as the store will
     * re-check it at admission.
     */
    readonly retainMs?: number;
    readonly now?: () => number;
  } = {},
): Promise<PortBudgetLedger> {
  const retainMs = options.retainMs ?? 2 * 3_600_000;
  const now = options.now ?? Date.now;
  /** Accounts read at each refresh, with when a decision last consulted each. */
  const known = new Map((await store.ledgerAccounts()).map((a) => [a.account, now()]));
  let ops: LedgerOp[] = [];
  let counter = 0;
  /** Incremented when a snapshot read starts. */
  let generation = 0;
  let base = new Map<string, { spent: number; reserved: number }>();
  let baseOpen = new Map<string, { accounts: readonly string[]; amount: number }>();
  const own = new Map<string, Own>();
  let reading: Promise<void> | undefined;

  const apply = (snapshot: LedgerSnapshot, at: number): void => {
    base = new Map(snapshot.accounts.map((a) => [a.account, { spent: a.spent, reserved: a.reserved }]));
    baseOpen = new Map(snapshot.reservations.map((r) => [r.id, { accounts: r.accounts, amount: r.amount }]));
    // A reservation durable before this read started and not open in it was settled in the store:
    // the base has all of it, so the view forgets it.
    for (const [id, r] of own) {
      if (!baseOpen.has(id) && r.durableAt !== undefined && r.durableAt < at) own.delete(id);
    }
  };
  const held = (account: string): boolean => {
    for (const r of own.values()) if (r.accounts.includes(account)) return true;
    return false;
  };
  const read = async (): Promise<void> => {
    const at = ++generation;
    const cutoff = now() - retainMs;
    for (const [account, seen] of known) if (seen < cutoff && !held(account)) known.delete(account);
    apply(await store.ledgerSnapshot([...known.keys()]), at);
  };
  apply(await store.ledgerSnapshot([...known.keys()]), ++generation);

  const state = (account: string): { spent: number; reserved: number } => {
    known.set(account, now());
    const a = { ...(base.get(account) ?? zero()) };
    for (const o of ops) if (o.op === 'reset' && o.account === account) a.spent = 0;
    for (const [id, r] of own) {
      if (!r.accounts.includes(account)) continue;
      if (!baseOpen.has(id)) {
        // Not written when the snapshot was read (one durable before the read and not open in it
        // was settled, and `apply` forgot it). Rarely, reserved and settled while the snapshot was
        // being read: counted again until the next read — an over-estimate, never an overspend.
        a.reserved += r.amount;
      }
      if (r.settle !== undefined) {
        a.reserved -= r.amount;
        if (r.settle === 'commit') a.spent += r.amount;
      }
    }
    return a;
  };
  const reservation = (id: string): { accounts: readonly string[]; amount: number } | undefined => {
    const r = own.get(id);
    if (r) return r.settle === undefined ? r : undefined;
    return baseOpen.get(id);
  };
  const settle = (id: string, op: 'commit' | 'refund'): void => {
    const open = reservation(id);
    if (!open) throw new StoreError('STORE_RESERVATION_UNKNOWN', `no open reservation ${id}`);
    const queued = ops.findIndex((o) => o.op === 'reserve' && o.id === id);
    if (op === 'refund' && queued >= 0) {
      // Refunded before its admission was written: it never reaches the store.
      ops.splice(queued, 1);
      own.delete(id);
      return;
    }
    const r = own.get(id);
    if (r) r.settle = op;
    // Held since before this view (recovered, or read at open): durable, open in the base.
    else own.set(id, { accounts: open.accounts, amount: open.amount, settle: op, durableAt: 0 });
    ops.push({ op, id });
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
      const id = reservationId(++counter);
      const accounts = charges.map((c) => c.account);
      ops.push({
        op: 'reserve',
        id,
        charges: charges.map((c) => ({ account: c.account, ceiling: c.ceiling })),
        amount,
      });
      own.set(id, { accounts, amount, settle: undefined, durableAt: undefined });
      return id;
    },
    commit: (id) => settle(id, 'commit'),
    refund: (id) => settle(id, 'refund'),
    reset(account) {
      if (typeof account !== 'string' || account.length === 0)
        throw new StoreError('STORE_INVALID_RECORD', 'a budget account is a non-empty string');
      known.set(account, now());
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
    refresh() {
      reading ??= read().finally(() => {
        reading = undefined;
      });
      return reading;
    },
    durable(ids) {
      for (const id of ids) {
        const r = own.get(id);
        if (r && r.durableAt === undefined) r.durableAt = generation;
      }
    },
    forget(ids) {
      for (const id of ids) {
        const r = own.get(id);
        if (r && r.durableAt === undefined) own.delete(id);
      }
      ops = ops.filter((o) => o.op === 'reset' || !ids.includes(o.id) || o.op !== 'reserve');
    },
  };
}

/** The delegation nonce of a request (`context.delegation`), as the guardian keys it. */
export function delegationNonceKey(request: unknown): string | undefined {
  const d = (request as { context?: { delegation?: { session_id?: unknown; nonce?: unknown } } } | null)
    ?.context?.delegation;
  return typeof d?.session_id === 'string' && typeof d.nonce === 'string'
    ? `${d.session_id}|${d.nonce}`
    : undefined;
}

/**
 * Delegation nonces on an async store. Before a decision the call's nonce is read (`prefetch`);
 * the guardian's synchronous `has` answers from that read and from nonces this node consumed and
 * has not written yet; a nonce nobody read is reported used (fail closed: the decision denies
 * rather than guess). `consume` takes it in memory for the call (`consumed`), and the call's
 * admission first burns it in the store (`burn`): exactly one node's burn succeeds.
 */
export class PortNonces implements NonceStore {
  readonly #read = new Map<string, boolean>();
  readonly #pending = new Set<string>();
  constructor(
    private readonly store: RuntimeStore,
    /** Where a consumed nonce is recorded for its call's admission (the call's unit). */
    private readonly record: (key: string) => void,
    private readonly scope = 'delegation',
  ) {}

  async prefetch(key: string): Promise<void> {
    this.#read.set(key, await this.store.nonceUsed(this.scope, key));
  }

  /** Drop what was read for `key` (its decision was made). */
  settled(key: string): void {
    this.#read.delete(key);
  }

  has(key: string): boolean {
    return this.#pending.has(key) || this.#read.get(key) !== false;
  }

  consume(key: string): boolean {
    if (this.has(key)) return false;
    this.#pending.add(key);
    this.record(key);
    return true;
  }

  /** Burn the call's consumed nonces in the store before its admission (`STORE_NONCE_REUSED`). */
  async burn(keys: readonly string[]): Promise<void> {
    try {
      for (const key of keys) {
        if (!(await this.store.consumeNonce(this.scope, key)))
          throw new StoreError('STORE_NONCE_REUSED', 'the delegation nonce was already used on another node');
      }
    } finally {
      for (const key of keys) this.#pending.delete(key);
    }
  }
}
