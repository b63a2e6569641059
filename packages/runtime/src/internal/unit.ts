// The per-call unit of work of a governed runtime, and the two pieces that let any number of calls
// be in flight on one runtime without sharing per-call state (docs/spec/pipeline.md §Concurrent
// calls on one runtime):
//
// - `CallUnit`: everything one call owns — its single clock reading, its recorded request, its
//   idempotency scope, the budget reservations it holds, the ProofGraph nodes and ceremony changes
//   it produced, the receipts it minted. The executor's ports are shared objects called without a
//   call identity, so the unit travels with the call's async context (AsyncLocalStorage) and each
//   port reads the unit of the call it is serving. Nothing of a unit outlives its call.
// - `ChainReceipts`: the recorder's receipt store. It keeps the chain's minted head and the
//   receipts minted but not yet committed — nothing else: history is read from the store on demand,
//   so open is O(1) in the chain's length and a long-running runtime retains O(chains), not O(calls).
// - `DecisionOrder`: receipts are minted (their Lamport positions assigned) in the order their
//   calls were decided, so the chain is one a serial run would produce (I-CONC-1).
// - `CommitSequencer`: receipts of one chain are committed in Lamport order whatever order their
//   calls finish in (a store rejects a receipt that does not extend its head). Commits go through
//   the store's group commit, so calls in flight share one durable sync. A commit that fails halts
//   the runtime (fail closed): the receipts minted after it link to a receipt the store does not
//   have, so no later call of this runtime can be receipted; a reopen recovers what was admitted.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SignedEnvelope } from '@helm/contracts';
import { envelopeBody } from '@helm/evidencepack';
import type { IdempotencyRecord } from '@helm/executor';
import type { SignedNode } from '@helm/proofgraph';
import { receiptNode } from '@helm/proofgraph';
import { receiptHash } from '@helm/receipts';
import {
  type AdmissionBatchItem,
  type CommitResult,
  type GovernanceChallengeRecord,
  type GovernedCallRecord,
  GroupCommitter,
  type Json,
  type LedgerOp,
  type RuntimeStore,
  type SqliteStore,
} from '@helm/store';
import { RuntimeError } from '../errors.js';

/** What one governed call owns while it is in flight. */
export class CallUnit {
  /** Reservations this call made (its ledger movements are written with its own transactions). */
  readonly reservations = new Set<string>();
  /** Non-receipt ProofGraph nodes the call appended (stored with its receipt). */
  readonly nodes: SignedNode[] = [];
  /** Approval-ceremony changes its decision made (stored with its receipt). */
  readonly challenges: GovernanceChallengeRecord[] = [];
  readonly closedChallenges: { id: string; why: string }[] = [];
  /** Lamports of the receipts the call minted (each must be committed or the runtime halts). */
  readonly minted: number[] = [];
  /** Idempotency: the record to store with the call, and the expired record it replaces. */
  pendingIdempotency: IdempotencyRecord | undefined;
  supersedes: string | undefined;
  /** A governance event applied in this call's turn reads the event's clock while it applies. */
  frozenAt: number | undefined;
  /** Its place in decision order while it holds one (`DecisionOrder`): decided, not yet minted. */
  ticket: number | undefined;
  /** Reservations already refunded at the decision (an idempotent repeat's): later refunds skip them. */
  readonly refunded = new Set<string>();
  /**
   * Async store: the stored idempotency record of the call's key as read before its decision
   * (`StoreIdempotency.peek` answers from it; entry undefined: none stored).
   */
  readAhead:
    | { readonly key: string; readonly entry: { receiptId: string; value: Json } | undefined }
    | undefined;
  /** Delegation nonces its decision consumed (async store: burned before its admission). */
  readonly nonces: string[] = [];

  constructor(
    /** The call's one clock reading: its decision, intent and receipt all see this instant. */
    readonly clockMs: number,
    /** The request as recorded (with its admission and its receipt). */
    readonly request: Json,
    readonly epoch: number,
    /** The request carries the caller's own idempotency key. */
    readonly explicitKey: boolean,
    /** The idempotency window of the tool's effect class. */
    readonly windowMs: number,
  ) {}

  /** The clock reading every step of this call sees. */
  now(): number {
    return this.frozenAt ?? this.clockMs;
  }
}

/** The async context a unit travels in (one per process: units never share state through it). */
const context = new AsyncLocalStorage<CallUnit>();

/** The unit of the call whose async context this is, if any. */
export function currentUnit(): CallUnit | undefined {
  return context.getStore();
}

/** Run `fn` as `unit`'s work (every port it reaches sees the unit). */
export function runInUnit<T>(unit: CallUnit, fn: () => Promise<T>): Promise<T> {
  return context.run(unit, fn);
}

/**
 * Receipts are minted in decision order (I-CONC-1): a call takes a ticket when the guardian
 * decides it (its budget reservation is taken then), and mints its receipt — which assigns its
 * Lamport position — only once every call with a lower ticket has minted or ended. So a call
 * denied because of a reservation never precedes, on the chain, the call that holds it: the
 * chain is the one the same calls one at a time, in decision order, would produce, and
 * `reexecute` (Lamport order) decides each call as it was decided. A mint with no decision (a call
 * refused before the guardian, a governance event's receipt) takes its ticket when it mints.
 * Nothing a decided call waits for (its admission, driver, grant, commits of lower Lamports)
 * waits for a call with a higher ticket, so the wait cannot deadlock.
 */
export class DecisionOrder {
  #next = 0;
  /** Tickets taken and not yet released. */
  readonly #held = new Set<number>();
  readonly #waiters: { ticket: number; wake: () => void }[] = [];

  /** `unit` is decided now: it takes its place (once until it mints). */
  decided(unit: CallUnit | undefined): void {
    if (unit && unit.ticket === undefined) unit.ticket = this.#take();
  }

  /** Run `mint` in decision order: after every lower ticket minted or ended. */
  async inTurn<T>(unit: CallUnit | undefined, mint: () => Promise<T>): Promise<T> {
    const ticket = unit?.ticket ?? this.#take();
    if (unit) unit.ticket = undefined;
    try {
      await this.#turn(ticket);
      return await mint();
    } finally {
      this.#release(ticket);
    }
  }

  /** The unit ended: a ticket it still holds (it minted nothing after its decision) is released. */
  ended(unit: CallUnit): void {
    if (unit.ticket !== undefined) this.#release(unit.ticket);
    unit.ticket = undefined;
  }

  #take(): number {
    const t = this.#next++;
    this.#held.add(t);
    return t;
  }

  #ready(ticket: number): boolean {
    for (const t of this.#held) if (t < ticket) return false;
    return true;
  }

  #turn(ticket: number): Promise<void> {
    if (this.#ready(ticket)) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ ticket, wake }));
  }

  #release(ticket: number): void {
    if (!this.#held.delete(ticket)) return;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i] as { ticket: number; wake: () => void };
      if (this.#ready(w.ticket)) {
        this.#waiters.splice(i, 1);
        w.wake();
      }
    }
  }

  /** Tickets held (bounded by the calls in flight). */
  get held(): number {
    return this.#held.size;
  }
}

interface ChainHeadView {
  readonly chain_id: string;
  readonly lamport: number;
  readonly hash: string;
}

/**
 * The receipt store of the runtime's recorder (@helm/receipts `ReceiptStore`): compare-and-append
 * on the minted head in memory; reads of committed receipts go to the store through the async
 * store port (the recorder awaits them). `append` here is the minting, not the durable write: the
 * runtime releases nothing before the receipt's own transaction committed (`CommitSequencer`).
 */
export class ChainReceipts {
  #head: ChainHeadView | undefined;
  /** Minted, not yet committed (bounded by the calls in flight). */
  readonly #uncommitted = new Map<number, SignedEnvelope>();

  private constructor(
    private readonly store: RuntimeStore,
    readonly chainId: string,
    head: ChainHeadView | undefined,
    /** The head receipt's envelope as stored at open (the ProofGraph frontier starts from it). */
    readonly headEnvelope: SignedEnvelope | undefined,
  ) {
    this.#head = head;
  }

  /** The chain's committed head, read from the store. */
  static async open(store: RuntimeStore, chainId: string): Promise<ChainReceipts> {
    const h = await store.chainHead(chainId);
    const [r] = h ? await store.receipts({ chainId, fromLamport: h.lamport, toLamport: h.lamport }) : [];
    // The head row is what every later receipt is signed over: it must be the hash of the head
    // receipt itself (recomputed from its signature, not the row's own hash column), or a
    // database writer who edited the row would make this runtime sign receipts that break the
    // chain — effects without verifiable evidence.
    if (h && (r === undefined || r.lamport !== h.lamport || receiptHash(r.envelope) !== h.hash))
      throw new RuntimeError(
        'CHAIN_HEAD_MISMATCH',
        `chain ${chainId}'s head row (Lamport ${h.lamport}, ${h.hash}) is not the hash of its head receipt${r ? ` (${receiptHash(r.envelope) ?? 'no valid signature'})` : ' (missing)'}: nothing was done`,
        'the chain_heads row was changed outside HELM: restore it from the receipts (the last receipt of the chain) or from a backup — docs/deployment.md',
      );
    return new ChainReceipts(
      store,
      chainId,
      h ? { chain_id: chainId, lamport: h.lamport, hash: h.hash } : undefined,
      r?.envelope,
    );
  }

  append(r: {
    chain_id: string;
    lamport: number;
    hash: string;
    prev_hash: string;
    envelope: SignedEnvelope;
  }): void {
    const head = this.#head;
    const headLamport = head?.lamport ?? 0;
    if (r.chain_id !== this.chainId || r.lamport !== headLamport + 1 || (head && r.prev_hash !== head.hash)) {
      throw new RuntimeError(
        'INTERNAL',
        `receipt ${r.lamport} does not extend the minted head ${headLamport}`,
      );
    }
    this.#head = { chain_id: r.chain_id, lamport: r.lamport, hash: r.hash };
    this.#uncommitted.set(r.lamport, r.envelope);
    currentUnit()?.minted.push(r.lamport);
  }

  head(chainId: string): ChainHeadView | undefined {
    return chainId === this.chainId ? this.#head : undefined;
  }

  async range(chainId: string, from: number, to: number): Promise<SignedEnvelope[]> {
    if (chainId !== this.chainId || to < from) return [];
    // What is minted but not committed is taken from memory BEFORE the store is read: a receipt
    // settles out of memory only after its commit, so each Lamport is in the snapshot or in the
    // store read that follows it — never in neither.
    const pending = new Map<number, SignedEnvelope>();
    for (let l = from; l <= to; l++) {
      const e = this.#uncommitted.get(l);
      if (e) pending.set(l, e);
    }
    const stored =
      pending.size === to - from + 1
        ? []
        : await this.store.receipts({ chainId, fromLamport: from, toLamport: to });
    const byLamport = new Map(stored.map((s) => [s.lamport, s.envelope]));
    const out: SignedEnvelope[] = [];
    for (let l = from; l <= to; l++) {
      const e = pending.get(l) ?? byLamport.get(l);
      if (e) out.push(e);
    }
    return out;
  }

  /** The receipt was committed (or will never be): it is read from the store from now on. */
  settled(lamport: number): void {
    this.#uncommitted.delete(lamport);
  }

  /** Receipts minted and not yet committed (for tests of bounded retention). */
  get uncommitted(): number {
    return this.#uncommitted.size;
  }
}

/** The synchronous reads `FrontierNodes` needs beyond the frontier it keeps (the embedded store has them). */
export type FrontierReads = Pick<
  SqliteStore,
  'nodeSync' | 'nodesSync' | 'receiptsSync' | 'chainHeadSync' | 'nodeCountSync'
>;

/**
 * The runtime's ProofGraph node store (@helm/proofgraph `NodeStore`): only the chain's head node is
 * kept; nodes are read from the store on demand. A receipt node is derived from its receipt (the
 * receipts table); other nodes a call appends are handed to its unit and stored with its receipt.
 */
export class FrontierNodes {
  #head: SignedNode | undefined;
  /** Nodes appended and not yet committed, by hash (bounded by the calls in flight). */
  readonly #uncommitted = new Map<string, SignedNode>();

  constructor(
    /**
     * Synchronous node reads (@helm/proofgraph's NodeStore is synchronous): only `get` of a node
     * that is neither the head nor pending, `rangeByLamport` and `size` reach them — none is on
     * the governed-call path (a node's parents are the frontier, which is in memory).
     */
    private readonly store: FrontierReads,
    private readonly receipts: ChainReceipts,
  ) {
    const head = receipts.head(receipts.chainId);
    const envelope = receipts.headEnvelope;
    if (head && envelope) this.#head = receiptNode(envelope, envelopeBody(envelope), head.hash);
  }

  append(node: SignedNode): void {
    if (this.#uncommitted.has(node.hash) || this.#head?.hash === node.hash)
      throw new RuntimeError('INTERNAL', `node ${node.hash} exists`);
    if (this.#head === undefined || node.body.lamport >= this.#head.body.lamport) this.#head = node;
    const unit = currentUnit();
    if (node.envelope.type !== 'helm.receipt.v1') {
      this.#uncommitted.set(node.hash, node);
      unit?.nodes.push(node);
    }
  }

  /**
   * The head node, a node not yet committed, or a signed node of the nodes table. Receipt nodes
   * before the head are addressed by Lamport (`rangeByLamport`): the store keeps no index of
   * receipts by hash.
   */
  get(hash: string): SignedNode | undefined {
    if (this.#head?.hash === hash) return this.#head;
    const pending = this.#uncommitted.get(hash);
    if (pending) return pending;
    const n = this.store.nodeSync(hash);
    if (!n) return undefined;
    const doc = n.body as unknown as { envelope: SignedEnvelope; payload?: unknown };
    return {
      hash: n.id,
      body: envelopeBody(doc.envelope) as unknown as SignedNode['body'],
      envelope: doc.envelope,
      ...('payload' in doc ? { payload: doc.payload } : {}),
    };
  }

  heads(): string[] {
    return this.#head ? [this.#head.hash] : [];
  }

  rangeByLamport(from: number, to: number): SignedNode[] {
    const chain = this.receipts.chainId;
    const out: SignedNode[] = this.store
      .receiptsSync({ chainId: chain, fromLamport: from, toLamport: to })
      .map((r) => receiptNode(r.envelope, envelopeBody(r.envelope), r.hash));
    for (const n of this.store.nodesSync()) {
      if (n.lamport >= from && n.lamport <= to) {
        const node = this.get(n.id);
        if (node) out.push(node);
      }
    }
    return out.sort((a, b) => a.body.lamport - b.body.lamport || (a.hash < b.hash ? -1 : 1));
  }

  get size(): number {
    return (this.store.chainHeadSync(this.receipts.chainId)?.lamport ?? 0) + this.store.nodeCountSync();
  }

  settled(hash: string): void {
    this.#uncommitted.delete(hash);
  }
}

/**
 * One receipt's transaction, waiting for its turn. Its ledger movements are taken from the
 * deferred ledger only when the transaction is written (`ledger()` runs inside the flush), so a
 * decision made meanwhile still sees them queued — never in neither the queue nor the store.
 */
export interface PendingCommit {
  readonly record: GovernedCallRecord;
  readonly ledger: () => readonly LedgerOp[];
}

/**
 * Group commit of receipt transactions: the calls submitted while a flush is pending are written
 * by one storage transaction (each its own savepoint), one durable sync for all of them.
 */
export function receiptCommitter(store: RuntimeStore): (item: PendingCommit) => Promise<CommitResult> {
  // One batch in flight at a time (GroupCommitter with an asynchronous flush): batches reach the
  // store in Lamport order.
  const committer = new GroupCommitter<PendingCommit, CommitResult>(async (items) => {
    // A decision id is content-derived and its signature deterministic: two calls decided alike
    // at the same instant (two repeats both denied BUDGET_EXCEEDED) carry the same decision. It
    // is stored once — by the first receipt naming it — and named by both receipts.
    const ids = [
      ...new Set(items.flatMap((i) => (i.record.decision === undefined ? [] : [i.record.decision.id]))),
    ];
    const known = new Set(ids.length === 0 ? [] : (await store.decisions(ids)).map((d) => d.id));
    // From here to the store's write nothing awaits: the ledger movements are drained in the same
    // synchronous step that hands them to the transaction (the embedded store writes before
    // `commitCalls` returns), so a decision never sees them in neither the queue nor the store.
    const records = items.map((i): GovernedCallRecord => {
      const { decision, ...rest } = i.record;
      const stored = decision !== undefined && known.has(decision.id);
      if (decision !== undefined) known.add(decision.id);
      return { ...rest, ...(decision === undefined || stored ? {} : { decision }), ledger: i.ledger() };
    });
    return store.commitCalls(records);
  });
  return (item) => committer.submit(item);
}

/**
 * Commits the receipts of one chain in Lamport order through group commit. `submit` resolves once
 * the receipt's transaction committed; a failure halts the sequencer (every waiting and later
 * commit is refused) — nothing is released that its receipt does not back.
 */
export class CommitSequencer {
  #next: number;
  readonly #waiting = new Map<
    number,
    { item: PendingCommit; resolve: (r: CommitResult) => void; reject: (e: unknown) => void }
  >();
  #halted: RuntimeError | undefined;

  constructor(
    private readonly commit: (item: PendingCommit) => Promise<CommitResult>,
    headLamport: number,
  ) {
    this.#next = headLamport + 1;
  }

  /** Why this runtime refuses further calls (undefined: it does not). */
  get halted(): RuntimeError | undefined {
    return this.#halted;
  }

  /** Commit `record` after every lower Lamport of the chain; resolves when durable. */
  submit(item: PendingCommit): Promise<CommitResult> {
    if (this.#halted) return Promise.reject(this.#halted);
    const lamport = item.record.receipt.lamport;
    if (lamport < this.#next || this.#waiting.has(lamport))
      return Promise.reject(new RuntimeError('INTERNAL', `receipt ${lamport} was already submitted`));
    return new Promise<CommitResult>((resolve, reject) => {
      this.#waiting.set(lamport, { item, resolve, reject });
      this.#pump();
    });
  }

  /** A minted receipt will never be submitted (its call ended without it): halt. */
  abandon(lamport: number, why: string): void {
    if (lamport >= this.#next && !this.#waiting.has(lamport))
      this.halt(`receipt ${lamport} was minted but not committed: ${why}`);
  }

  halt(why: string): void {
    if (this.#halted) return;
    this.#halted = new RuntimeError(
      'RUNTIME_HALTED',
      `the runtime stopped deciding calls: ${why}`,
      'close and reopen the runtime (run the command again): calls that were admitted are receipted EXECUTION_INTERRUPTED at open',
    );
    for (const w of this.#waiting.values()) w.reject(this.#halted);
    this.#waiting.clear();
  }

  #pump(): void {
    for (;;) {
      const w = this.#waiting.get(this.#next);
      if (!w) return;
      this.#waiting.delete(this.#next);
      this.#next += 1;
      this.commit(w.item).then(w.resolve, (error: unknown) => {
        this.halt(
          `the commit of receipt ${w.item.record.receipt.lamport} failed: ${(error as Error)?.message ?? String(error)}`,
        );
        w.reject(error);
      });
    }
  }
}

/**
 * Admissions of calls in flight, written together through the store port's `admitCalls`: each is
 * its own savepoint of one transaction (a failing admission is rolled back alone and reported to
 * its call), and one durable sync covers them all. A call's driver runs only after its
 * admission's transaction committed.
 */
export class AdmissionBatcher {
  readonly #committer: GroupCommitter<AdmissionBatchItem, true>;

  constructor(store: RuntimeStore) {
    this.#committer = new GroupCommitter<AdmissionBatchItem, true>((items) => store.admitCalls(items));
  }

  admit(item: AdmissionBatchItem): Promise<true> {
    return this.#committer.submit(item);
  }

  /** Transactions written so far (for benchmarks). */
  get flushes(): number {
    return this.#committer.flushes;
  }
}

export type { LedgerOp };
