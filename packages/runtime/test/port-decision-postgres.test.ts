// The decision's shared state on the async store port (src/internal/port-decision.ts) against a
// real PostgreSQL server (fresh database for this file; HELM_TEST_DATABASE_URL overrides; no
// server = failure). The attacker: two runtime nodes deciding at the same instant on views of the
// same ledger — both see the last budget units free, both see one delegation nonce unused. The
// store must let exactly one spend each unit and exactly one use the nonce, and the loser's call
// must fail before any driver runs. And the honest single node: its view stays exact (what the
// embedded store's decisions see) through every interleaving of its own reads and transactions.
import type { LedgerOp } from '@helm/store';
import { openPostgresStore, type PostgresStore } from '@helm/store-postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store-postgres/test/harness.ts';
import { openPortBudgetLedger, type PortBudgetLedger, PortNonces } from '../src/internal/port-decision.ts';

const db = await createTestDatabase('rt_decide');
afterAll(() => db.drop());

const opened: PostgresStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function open(nodeId: string, schema: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: db.url, nodeId, schema, groupCommit: false });
  opened.push(s);
  return s;
}

/** A node's view and its admission: the reservation's movements are written with the admission. */
async function admit(store: PostgresStore, ledger: PortBudgetLedger, id: string): Promise<true | Error> {
  const [slot] = await store.admitCalls([
    {
      admission: {
        id: `adm-${id}`,
        chainId: store.nodeId,
        sessionId: store.nodeId,
        reservationId: id,
        body: {},
      },
      ledger: () => ledger.drain([id]),
    },
  ]);
  if (slot === true) ledger.durable([id]);
  else ledger.forget([id]);
  return slot as true | Error;
}

/** The receipt's transaction: the reservation's settlement (and the admission's close). */
async function settle(store: PostgresStore, ledger: PortBudgetLedger, id: string): Promise<void> {
  const ops: LedgerOp[] = ledger.drain([id]);
  await store.ledgerApply(ops);
}

const charge = (ceiling: number) => [{ account: 'principal:alice', ceiling }];

describe('budget ledger on the async port', () => {
  it('one node: the view equals the store after every step, whatever reads interleave', async () => {
    const store = await open('node-a', 'view_exact');
    const ledger = await openPortBudgetLedger(store, (n) => `budget-res-node-a.1.${n}`);
    const truth = async () => store.ledgerState('principal:alice');
    const expectExact = async (what: string) => {
      // The view's answer must be the store's truth plus exactly the movements still queued.
      const queued = ledger.drain();
      expect(queued, what).toEqual([]);
      expect(ledger.state('principal:alice'), what).toEqual(await truth());
    };
    const a = ledger.reserve(charge(3), 1) as string;
    const b = ledger.reserve(charge(3), 1) as string;
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 2 });
    await ledger.refresh(); // neither written: both still counted once
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 2 });
    // a is admitted; a read before and after it is marked durable counts it once.
    const [slot] = await store.admitCalls([
      {
        admission: { id: 'adm-a', chainId: 'c', sessionId: 'c', reservationId: a, body: {} },
        ledger: () => ledger.drain([a]),
      },
    ]);
    expect(slot).toBe(true);
    await ledger.refresh();
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 2 });
    ledger.durable([a]);
    await ledger.refresh();
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 2 });
    // b is refunded before its admission: it never reaches the store.
    ledger.refund(b);
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 1 });
    // a's receipt commits it: queued, then written, with reads on either side.
    ledger.commit(a);
    expect(ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
    await ledger.refresh();
    expect(ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
    await settle(store, ledger, a);
    expect(ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
    await ledger.refresh();
    await expectExact('after a is settled');
    // Settled once: a second settlement of a is refused in memory.
    expect(() => ledger.commit(a)).toThrow(expect.objectContaining({ code: 'STORE_RESERVATION_UNKNOWN' }));
    // Two more fit under the ceiling of 3, the third does not (a policy denial, not a store error).
    const c = ledger.reserve(charge(3), 1) as string;
    const d = ledger.reserve(charge(3), 1) as string;
    expect(ledger.reserve(charge(3), 1)).toBeNull();
    expect(await admit(store, ledger, c)).toBe(true);
    expect(await admit(store, ledger, d)).toBe(true);
    await ledger.refresh();
    await expectExact('c and d admitted');
    ledger.refund(c);
    ledger.commit(d);
    await settle(store, ledger, c);
    await settle(store, ledger, d);
    await ledger.refresh();
    await expectExact('c refunded, d committed');
    expect(await truth()).toEqual({ spent: 2, reserved: 0 });
  });

  it('a node that restarts sees what was spent and holds its open reservations (read at open)', async () => {
    const first = await open('node-a', 'view_restart');
    const before = await openPortBudgetLedger(first, (n) => `budget-res-node-a.1.${n}`);
    const held = before.reserve(charge(5), 2) as string;
    expect(await admit(first, before, held)).toBe(true);
    await first.close();
    const again = await open('node-a', 'view_restart');
    const after = await openPortBudgetLedger(again, (n) => `budget-res-node-a.2.${n}`);
    expect(after.state('principal:alice')).toEqual({ spent: 0, reserved: 2 });
    // Recovery settles the reservation it did not make.
    after.commit(held);
    expect(after.state('principal:alice')).toEqual({ spent: 2, reserved: 0 });
    await settle(again, after, held);
    await after.refresh();
    expect(after.state('principal:alice')).toEqual({ spent: 2, reserved: 0 });
    expect(after.reserve(charge(5), 4)).toBeNull();
  });

  it('attacker: two nodes decide 8 calls each on the same 10 units — the store admits exactly 10, never more', async () => {
    const a = await open('node-a', 'view_race');
    const b = await open('node-b', 'view_race');
    const la = await openPortBudgetLedger(a, (n) => `budget-res-node-a.1.${n}`);
    const lb = await openPortBudgetLedger(b, (n) => `budget-res-node-b.1.${n}`);
    // Each node's view sees 10 free units, so each decides 8 calls allowed.
    const ids = { a: [] as string[], b: [] as string[] };
    for (let i = 0; i < 8; i++) {
      ids.a.push(la.reserve(charge(10), 1) as string);
      ids.b.push(lb.reserve(charge(10), 1) as string);
    }
    expect([...ids.a, ...ids.b].every((id) => typeof id === 'string')).toBe(true);
    expect(new Set([...ids.a, ...ids.b]).size).toBe(16);
    const slots = await Promise.all([
      ...ids.a.map((id) => admit(a, la, id)),
      ...ids.b.map((id) => admit(b, lb, id)),
    ]);
    const admitted = slots.filter((s) => s === true).length;
    expect(admitted).toBe(10);
    for (const s of slots) if (s !== true) expect(s).toMatchObject({ code: 'STORE_BUDGET_EXCEEDED' });
    // The admitted calls run and commit; the ledger is exact and both views agree after a read.
    const won = {
      a: ids.a.filter((_, i) => slots[i] === true),
      b: ids.b.filter((_, i) => slots[8 + i] === true),
    };
    for (const id of won.a) la.commit(id);
    for (const id of won.b) lb.commit(id);
    await Promise.all([...won.a.map((id) => settle(a, la, id)), ...won.b.map((id) => settle(b, lb, id))]);
    expect(await a.ledgerState('principal:alice')).toEqual({ spent: 10, reserved: 0 });
    await Promise.all([la.refresh(), lb.refresh()]);
    expect(la.state('principal:alice')).toEqual({ spent: 10, reserved: 0 });
    expect(lb.state('principal:alice')).toEqual({ spent: 10, reserved: 0 });
    // From now on each node denies in the decision (a receipted policy denial), not at the store.
    expect(la.reserve(charge(10), 1)).toBeNull();
    expect(lb.reserve(charge(10), 1)).toBeNull();
  });

  it('another node spending is seen at the next read, before the next decision', async () => {
    const a = await open('node-a', 'view_other');
    const b = await open('node-b', 'view_other');
    const la = await openPortBudgetLedger(a, (n) => `budget-res-node-a.1.${n}`);
    const lb = await openPortBudgetLedger(b, (n) => `budget-res-node-b.1.${n}`);
    expect(la.state('principal:alice')).toEqual({ spent: 0, reserved: 0 }); // a has seen the account
    const id = lb.reserve(charge(4), 3) as string;
    expect(await admit(b, lb, id)).toBe(true);
    // A snapshot lists only the reading node's own reservations (b's is in a's base as `reserved`).
    expect((await a.ledgerSnapshot(['principal:alice'])).reservations).toEqual([]);
    expect((await b.ledgerSnapshot(['principal:alice'])).reservations).toEqual([
      { id, accounts: ['principal:alice'], amount: 3 },
    ]);
    await la.refresh();
    expect(la.state('principal:alice')).toEqual({ spent: 0, reserved: 3 });
    expect(la.reserve(charge(4), 2)).toBeNull();
  });

  it('I-SCALE-1: accounts no decision consulted lately are no longer read; one held by a reservation stays', async () => {
    const a = await open('node-a', 'view_prune');
    const b = await open('node-b', 'view_prune');
    let t = 0;
    const la = await openPortBudgetLedger(a, (n) => `budget-res-node-a.1.${n}`, {
      retainMs: 1_000,
      now: () => t,
    });
    const lb = await openPortBudgetLedger(b, (n) => `budget-res-node-b.1.${n}`);
    expect(la.state('old-window')).toEqual({ spent: 0, reserved: 0 });
    const mine = la.reserve([{ account: 'held', ceiling: 9 }], 1) as string;
    expect(await admit(a, la, mine)).toBe(true);
    // Another node spends on both accounts.
    for (const account of ['old-window', 'held']) {
      const id = lb.reserve([{ account, ceiling: 9 }], 2) as string;
      expect(await admit(b, lb, id)).toBe(true);
    }
    t = 5_000; // both idle past retainMs; `held` still has a's reservation
    await la.refresh();
    expect(la.state('held')).toEqual({ spent: 0, reserved: 3 }); // still read
    expect(la.state('old-window')).toEqual({ spent: 0, reserved: 0 }); // no longer read
    await la.refresh(); // consulted again: read from the next refresh on
    expect(la.state('old-window')).toEqual({ spent: 0, reserved: 2 });
  });

  it('fail closed: an unreachable database fails the read before any decision', async () => {
    const store = await openPostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      nodeId: 'node-x',
      groupCommit: false,
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    if (store instanceof Error) {
      expect(store).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      return;
    }
    opened.push(store as PostgresStore);
    await expect(openPortBudgetLedger(store as PostgresStore, (n) => `r${n}`)).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });

  it('fail closed: a view whose store went away refuses to refresh (the call is not decided)', async () => {
    const store = await open('node-a', 'view_closed');
    const ledger = await openPortBudgetLedger(store, (n) => `r${n}`);
    await store.close();
    await expect(ledger.refresh()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});

describe('delegation nonces on the async port', () => {
  it('attacker: one nonce presented on two nodes at once is used by exactly one', async () => {
    const a = await open('node-a', 'nonce_race');
    const b = await open('node-b', 'nonce_race');
    const taken: string[] = [];
    const na = new PortNonces(a, (k) => taken.push(`a:${k}`));
    const nb = new PortNonces(b, (k) => taken.push(`b:${k}`));
    const key = 'session-1|nonce-1';
    // Both read before deciding: unused on both; both decisions consume it in memory.
    await Promise.all([na.prefetch(key), nb.prefetch(key)]);
    expect(na.consume(key)).toBe(true);
    expect(nb.consume(key)).toBe(true);
    expect(taken).toEqual([`a:${key}`, `b:${key}`]);
    // The admissions burn it first: exactly one succeeds.
    const burns = await Promise.allSettled([na.burn([key]), nb.burn([key])]);
    expect(burns.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = burns.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'STORE_NONCE_REUSED' });
    // Every later presentation of it is denied at the decision on both nodes.
    await Promise.all([na.prefetch(key), nb.prefetch(key)]);
    expect(na.has(key)).toBe(true);
    expect(nb.has(key)).toBe(true);
  });

  it('one node: a nonce consumed and not yet burned is used for the next decision too', async () => {
    const a = await open('node-a', 'nonce_local');
    const na = new PortNonces(a, () => undefined);
    await na.prefetch('s|n');
    expect(na.consume('s|n')).toBe(true);
    await na.prefetch('s|n'); // read before the burn: the store does not have it yet
    expect(na.has('s|n')).toBe(true);
    expect(na.consume('s|n')).toBe(false);
  });

  it('fail closed: a nonce nobody read is treated as used', async () => {
    const a = await open('node-a', 'nonce_unread');
    const na = new PortNonces(a, () => undefined);
    expect(na.has('never|read')).toBe(true);
    expect(na.consume('never|read')).toBe(false);
  });
});
