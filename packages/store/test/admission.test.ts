// The admission journal and the call-atomic budget ledger: an admission (with its reservation) is
// one transaction; the receipt's transaction closes the admission and settles the reservation; a
// deferred ledger writes nothing on its own.
import { describe, expect, it } from 'vitest';
import { deferredBudgetLedger, openSqliteStore, type StoreError } from '../src/index.ts';
import { type ChainState, GENESIS, makeCall } from './fixtures/chain.ts';

const charges = [{ account: 'principal:alice', ceiling: 10 }];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as StoreError).code;
  }
  return undefined;
}

describe('admission journal', () => {
  it('admits with the reservation in one transaction; the receipt closes it and settles the budget', async () => {
    const store = openSqliteStore(':memory:');
    const ledger = deferredBudgetLedger(store);
    const res = ledger.reserve(charges, 3) as string;
    expect(res).toBe('budget-res-1');
    // Nothing is written before the admission.
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 0, reserved: 0 });
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 3 });
    await store.admitCall(
      { id: 'adm-1', sessionId: 's', reservationId: res, body: { type: 'helm.admission.v1' } },
      ledger.drain(),
    );
    expect(ledger.pending).toBe(0);
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 0, reserved: 3 });
    expect(await store.admissions()).toEqual([
      {
        id: 'adm-1',
        seq: 1,
        chainId: 'default',
        sessionId: 's',
        reservationId: res,
        body: { type: 'helm.admission.v1' },
      },
    ]);
    expect(store.admissionsSync('other')).toEqual([]);
    expect(code(() => store.admitCallSync({ id: 'adm-1', sessionId: 's', body: null }))).toBe(
      'STORE_DUPLICATE',
    );

    // A receipt that names an admission that is not open writes nothing at all.
    const state: ChainState = { lamport: 0, hash: GENESIS };
    const stray = makeCall(state, 's', 1);
    await expect(store.commitCall({ ...stray, admissionId: 'adm-404' })).rejects.toMatchObject({
      code: 'STORE_INVALID_RECORD',
    });
    expect(store.chainHeadSync()).toBeUndefined();

    // The call's receipt, its ledger commit and the admission's close are one transaction.
    ledger.commit(res);
    expect(ledger.state('principal:alice')).toEqual({ spent: 3, reserved: 0 });
    await store.commitCall({ ...stray, admissionId: 'adm-1', ledger: ledger.drain() });
    expect(store.admissionsSync()).toEqual([]);
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 3, reserved: 0 });
    expect(store.chainHeadSync()?.lamport).toBe(1);
    // Closing it twice is refused (one admission, one receipt).
    const again = makeCall(state, 's', 2);
    expect(code(() => store.commitCallSync({ ...again, admissionId: 'adm-1' }))).toBe('STORE_INVALID_RECORD');
    store.closeSync();
    expect(code(() => store.admitCallSync({ id: 'x', sessionId: 's', body: null }))).toBe('STORE_CLOSED');
  });

  it('rolls the admission back when its ledger movements cannot apply', () => {
    const store = openSqliteStore(':memory:');
    const over = [{ op: 'reserve' as const, id: 'budget-res-1', charges, amount: 11 }];
    expect(code(() => store.admitCallSync({ id: 'a', sessionId: 's', body: null }, over))).toBe(
      'STORE_BUDGET_EXCEEDED',
    );
    expect(store.admissionsSync()).toEqual([]);
    expect(
      code(() =>
        store.admitCallSync({ id: 'a', sessionId: 's', body: null }, [{ op: 'commit', id: 'nope' }]),
      ),
    ).toBe('STORE_RESERVATION_UNKNOWN');
    // Malformed input is refused before any transaction.
    expect(code(() => store.admitCallSync({ id: 1 as unknown as string, sessionId: 's', body: null }))).toBe(
      'STORE_INVALID_RECORD',
    );
    const bad = [{ op: 'reserve', id: 'r', charges, amount: -1 }] as never;
    expect(code(() => store.admitCallSync({ id: 'a', sessionId: 's', body: null }, bad))).toBe(
      'STORE_INVALID_RECORD',
    );
    const state: ChainState = { lamport: 0, hash: GENESIS };
    const call = makeCall(state, 's', 1);
    expect(code(() => store.commitCallSync({ ...call, ledger: [{ op: 'steal', id: 'x' }] as never }))).toBe(
      'STORE_INVALID_RECORD',
    );
    expect(code(() => store.commitCallSync({ ...call, admissionId: 7 as unknown as string }))).toBe(
      'STORE_INVALID_RECORD',
    );
    // A reserve written twice is a duplicate.
    store.admitCallSync({ id: 'b', sessionId: 's', body: null }, [
      { op: 'reserve', id: 'budget-res-9', charges, amount: 1 },
    ]);
    expect(store.ledgerCounterSync()).toBe(9);
    expect(
      code(() =>
        store.admitCallSync({ id: 'c', sessionId: 's', body: null }, [
          { op: 'reserve', id: 'budget-res-9', charges, amount: 1 },
        ]),
      ),
    ).toBe('STORE_DUPLICATE');
    store.closeSync();
  });

  it('releases, at start-up, reservations no open admission holds', () => {
    const store = openSqliteStore(':memory:');
    const orphan = store.ledgerReserveSync(charges, 2) as string;
    const ledger = deferredBudgetLedger(store);
    const held = ledger.reserve(charges, 1) as string;
    store.admitCallSync({ id: 'a', sessionId: 's', reservationId: held, body: null }, ledger.drain());
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 0, reserved: 3 });
    expect(store.releaseOrphanReservationsSync()).toEqual([orphan]);
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 0, reserved: 1 });
    expect(store.releaseOrphanReservationsSync()).toEqual([]);
    store.closeSync();
  });
});

describe('deferred budget ledger', () => {
  it('queues movements, cancels a refunded queued reservation and refuses unknown ones', () => {
    const store = openSqliteStore(':memory:');
    const written = store.ledgerReserveSync(charges, 4) as string; // budget-res-1, in the DB
    const ledger = deferredBudgetLedger(store);
    expect(ledger.reserve(charges, 7)).toBeNull(); // 4 + 7 > 10
    const a = ledger.reserve(charges, 2) as string;
    expect(a).toBe('budget-res-2');
    ledger.refund(a);
    expect(ledger.pending).toBe(0); // never written, never reached admission: no trace
    expect(code(() => ledger.commit(a))).toBe('STORE_RESERVATION_UNKNOWN');
    const b = ledger.reserve(charges, 1) as string;
    expect(b).toBe('budget-res-3');
    ledger.commit(b);
    ledger.commit(written);
    expect(code(() => ledger.refund(written))).toBe('STORE_RESERVATION_UNKNOWN'); // settled in the queue
    expect(ledger.state('principal:alice')).toEqual({ spent: 5, reserved: 0 });
    expect(ledger.state('other')).toEqual({ spent: 0, reserved: 0 });
    expect(code(() => ledger.reserve(charges, 1.5))).toBe('STORE_INVALID_RECORD');
    expect(ledger.drain([written]).map((o) => `${o.op}:${o.id}`)).toEqual(['commit:budget-res-1']);
    expect(ledger.pending).toBe(2);
    const ops = [...ledger.drain(), { op: 'commit' as const, id: written }];
    expect(ops.map((o) => `${o.op}:${o.id}`)).toEqual([
      'reserve:budget-res-3',
      'commit:budget-res-3',
      'commit:budget-res-1',
    ]);
    const state: ChainState = { lamport: 0, hash: GENESIS };
    store.commitCallSync({ ...makeCall(state, 's', 1), ledger: ops });
    expect(store.ledgerStateSync('principal:alice')).toEqual({ spent: 5, reserved: 0 });
    expect(ledger.reserve(charges, 1)).toBe('budget-res-4');
    store.closeSync();
  });
});
