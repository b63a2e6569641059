// Budget accounts read back: parseBudgetAccount is the exact inverse of the guardian's
// budgetAccount, so `budget show` and `budget reset` never mistake one principal's account for
// another's.
import { BUDGET_WINDOW_MS, budgetAccount } from '@helm/guardian';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBudgetBase, parseBudgetAccount } from '../src/index.ts';

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
