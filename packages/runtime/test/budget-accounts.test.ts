// Budget accounts read back (parseBudgetAccount is the exact inverse of the guardian's
// budgetAccount, so `budget show` and `budget reset` never mistake one principal's account for
// another's) and the administrative reset over a real store.
import { BUDGET_WINDOW_MS, budgetAccount } from '@helm/guardian';
import { deferredBudgetLedger, openSqliteStore } from '@helm/store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBudgetBase, parseBudgetAccount, RuntimeError, resetBudget } from '../src/index.ts';

const windows = ['fixed', 'minute', 'hour', 'day'] as const;

describe('parseBudgetAccount', () => {
  it('inverts budgetAccount for any id, window, instant and bundle', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('principal', 'tenant'),
        fc.string({ unit: fc.constantFrom('a', '|', ':', 'p1', 'minute:1', '\n', 'é'), minLength: 1 }),
        fc.constantFrom(...windows),
        fc.integer({ min: 0, max: 10 * BUDGET_WINDOW_MS.day }),
        fc.option(fc.constantFrom('ops', 'a:b', 'x/y', 'p1'), { nil: undefined }),
        (kind, id, window, now, bundle) => {
          const account = budgetAccount(`${kind}:${id}`, window, now, bundle);
          const parsed = parseBudgetAccount(account);
          expect(parsed).toEqual({
            bundle: bundle ?? null,
            window,
            index: window === 'fixed' ? null : Math.floor(now / BUDGET_WINDOW_MS[window]),
            base: `${kind}:${id}`,
          });
        },
      ),
      { seed: 17, numRuns: 2_000 },
    );
  });

  it('refuses names the guardian never produces', () => {
    for (const name of [
      '',
      'alice',
      'principal:',
      'p1:|principal:a',
      'p1:ops',
      'week:1|principal:a',
      'minute:01|principal:a',
      'minute:-1|principal:a',
      'budget:s',
    ]) {
      expect(parseBudgetAccount(name), name).toBeUndefined();
    }
    expect(isBudgetBase('tenant:x')).toBe(true);
    expect(isBudgetBase('tenant:')).toBe(false);
  });
});

describe('resetBudget', () => {
  it('resets every account of exactly that principal, in every budget and window, and nobody else', () => {
    const store = openSqliteStore(':memory:', { groupCommit: false });
    const ledger = deferredBudgetLedger(store);
    const spend = (account: string, amount: number) => {
      const id = ledger.reserve([{ account, ceiling: 100 }], amount) as string;
      ledger.commit(id);
    };
    const alice = [
      budgetAccount('principal:alice', 'fixed', 0),
      budgetAccount('principal:alice', 'hour', 0),
      budgetAccount('principal:alice', 'hour', BUDGET_WINDOW_MS.hour),
      budgetAccount('principal:alice', 'day', 0, 'ops'),
    ];
    for (const a of alice) spend(a, 3);
    // Look-alikes that must not be touched.
    const others = [
      'principal:alice2',
      budgetAccount('principal:alice|x', 'fixed', 0),
      budgetAccount('tenant:alice', 'hour', 0),
      'legacy-account',
    ];
    for (const a of others) spend(a, 2);
    store.admitCallSync({ id: 'seed', sessionId: 's', body: {} }, ledger.drain());
    const reset = resetBudget(store, ledger, 'principal:alice');
    expect(reset).toEqual([...alice].sort());
    for (const a of alice) expect(ledger.state(a).spent).toBe(0);
    for (const a of others) expect(ledger.state(a).spent).toBe(2);
    // Nothing to reset a second time (spent is already 0 in the queue).
    expect(resetBudget(store, ledger, 'principal:alice')).toEqual([]);
    expect(() => resetBudget(store, ledger, 'alice')).toThrow(RuntimeError);
    store.closeSync();
  });
});
