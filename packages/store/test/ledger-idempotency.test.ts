// I-REPLAY-3 (store side) — budget resets and idempotency-window replacement in the store (#17 §2). Attacker tests first: a
// replacement must name exactly the record it replaces (compare-and-swap), and a reset must not
// release what open reservations hold.
import { describe, expect, it } from 'vitest';
import { deferredBudgetLedger, type GovernedCallRecord, openSqliteStore, StoreError } from '../src/index.ts';
import { GENESIS, makeCall } from './fixtures/chain.ts';

const charges = [{ account: 'principal:alice', ceiling: 10 }];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof StoreError ? error.code : 'not a StoreError';
  }
  return undefined;
}

describe('idempotency records: replacing an expired one', () => {
  it('refuses to overwrite a record unless the commit names the receipt it was stored with', () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const st = { lamport: 0, hash: GENESIS };
    const first = makeCall(st, 's', 0);
    s.commitCallSync({ ...first, idempotency: { key: 'k', value: { n: 1 } } });
    expect(s.idempotencyEntrySync('k')).toEqual({ key: 'k', receiptId: first.receipt.id, value: { n: 1 } });
    const next = (): GovernedCallRecord => makeCall({ ...st }, 's', 1);
    // No `supersedes`, or a wrong one (another receipt, a guess): conflict, nothing written.
    for (const supersedes of [undefined, 'r-s-9', '']) {
      const record = {
        ...next(),
        idempotency: { key: 'k', value: { n: 2 }, ...(supersedes === undefined ? {} : { supersedes }) },
      };
      expect(codeOf(() => s.commitCallSync(record))).toBe('STORE_IDEMPOTENCY_CONFLICT');
    }
    expect(s.receiptsSync()).toHaveLength(1);
    expect(s.idempotencyEntrySync('k')?.value).toEqual({ n: 1 });
    // Naming the stored record's receipt replaces it, in the call's transaction.
    const second = makeCall(st, 's', 1);
    s.commitCallSync({ ...second, idempotency: { key: 'k', value: { n: 2 }, supersedes: first.receipt.id } });
    expect(s.idempotencyEntrySync('k')).toEqual({ key: 'k', receiptId: second.receipt.id, value: { n: 2 } });
    // The replaced record cannot be named again (a stale replacement is a conflict).
    const third = makeCall({ ...st }, 's', 2);
    expect(
      codeOf(() =>
        s.commitCallSync({
          ...third,
          idempotency: { key: 'k', value: { n: 3 }, supersedes: first.receipt.id },
        }),
      ),
    ).toBe('STORE_IDEMPOTENCY_CONFLICT');
    s.closeSync();
  });
});

describe('budget ledger: administrative reset', () => {
  it('zeroes spent, keeps what open reservations hold, and lists every account', () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const ledger = deferredBudgetLedger(s);
    const spent = ledger.reserve(charges, 4) as string;
    ledger.commit(spent);
    const held = ledger.reserve([...charges, { account: 'tenant:acme', ceiling: 10 }], 3) as string;
    s.admitCallSync({ id: 'a1', sessionId: 's', reservationId: held, body: {} }, ledger.drain());
    expect(s.ledgerStateSync('principal:alice')).toEqual({ spent: 4, reserved: 3 });
    // Only 3 units left: 4 spent + 3 held.
    expect(ledger.reserve(charges, 4)).toBeNull();
    ledger.reset('principal:alice');
    expect(ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 3 }); // reads see the queue
    const st = { lamport: 0, hash: GENESIS };
    s.commitCallSync({ ...makeCall(st, 's', 0), idempotency: undefined, ledger: ledger.drain() });
    expect(s.ledgerStateSync('principal:alice')).toEqual({ spent: 0, reserved: 3 });
    expect(s.ledgerAccountsSync()).toEqual([
      { account: 'principal:alice', spent: 0, reserved: 3 },
      { account: 'tenant:acme', spent: 0, reserved: 3 },
    ]);
    // The held reservation is still open and is charged when its call ends.
    s.ledgerCommitSync(held);
    expect(s.ledgerStateSync('principal:alice')).toEqual({ spent: 3, reserved: 0 });
    // Resetting an account the ledger never saw writes nothing.
    ledger.reset('principal:nobody');
    s.commitCallSync({ ...makeCall(st, 's', 1), idempotency: undefined, ledger: ledger.drain() });
    expect(s.ledgerAccountsSync().map((a) => a.account)).toEqual(['principal:alice', 'tenant:acme']);
    s.closeSync();
  });

  it('ledgerApplySync applies resets atomically, inside a caller transaction or in its own', () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const ledger = deferredBudgetLedger(s);
    for (const account of ['principal:a', 'principal:b']) {
      const id = ledger.reserve([{ account, ceiling: 10 }], 2) as string;
      ledger.commit(id);
    }
    s.admitCallSync({ id: 'x', sessionId: 's', body: {} }, ledger.drain());
    // A malformed movement among good ones: nothing is applied.
    expect(
      codeOf(() =>
        s.ledgerApplySync([
          { op: 'reset', account: 'principal:a' },
          { op: 'reset', account: '' },
        ]),
      ),
    ).toBe('STORE_INVALID_RECORD');
    expect(s.ledgerStateSync('principal:a').spent).toBe(2);
    s.ledgerApplySync([
      { op: 'reset', account: 'principal:a' },
      { op: 'reset', account: 'principal:b' },
    ]);
    expect(s.ledgerAccountsSync().map((a) => a.spent)).toEqual([0, 0]);
    s.closeSync();
  });

  it('a reset is taken only by a full drain, and malformed resets are refused', () => {
    const s = openSqliteStore(':memory:', { groupCommit: false });
    const ledger = deferredBudgetLedger(s);
    const id = ledger.reserve(charges, 1) as string;
    ledger.reset('principal:alice');
    expect(ledger.drain([id])).toEqual([{ op: 'reserve', id, charges, amount: 1 }]);
    expect(ledger.drain()).toEqual([{ op: 'reset', account: 'principal:alice' }]);
    expect(codeOf(() => ledger.reset(''))).toBe('STORE_INVALID_RECORD');
    const st = { lamport: 0, hash: GENESIS };
    expect(
      codeOf(() =>
        s.commitCallSync({
          ...makeCall(st, 's', 0),
          ledger: [{ op: 'reset', account: 7 as unknown as string }],
        }),
      ),
    ).toBe('STORE_INVALID_RECORD');
    s.closeSync();
  });
});
