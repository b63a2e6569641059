// I-BUDGET-2 — budget windows (docs/spec/policy.md §Budgets): each refilling window is its own ledger account,
// chosen from the decision's clock reading alone; P1 bundle budgets narrow P0's on accounts of
// their own. Attacker tests first: the window boundary, account-name collisions, a P1 denial that
// must not leave a P0 reservation behind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUDGET_WINDOW_MS,
  budgetAccount,
  type GuardianError,
  loadPolicyStack,
  type PolicyStack,
} from '../src/index.ts';
import { BUNDLE, harness, P0, request, signBundle, T0, trustedBundleKeys, VOCABULARY } from './fixtures.ts';

function stackWith(p0: unknown, ...bundles: unknown[]): PolicyStack {
  return loadPolicyStack({
    p0,
    bundles: bundles.map((b) => signBundle(b)),
    trustedBundleKeys,
    vocabulary: VOCABULARY,
  });
}

function loadCode(p0: unknown, ...bundles: unknown[]): string | undefined {
  try {
    stackWith(p0, ...bundles);
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

const MINUTE = BUDGET_WINDOW_MS.minute;
const bob = (cost: number) => request({ principal: 'bob', cost }, { credential_id: 'cred-bob' });
const minuteP0 = { ...P0, budgets: { ...P0.budgets, window: 'minute' } };

describe('budget windows: attacks', () => {
  it('a window ends exactly at the next multiple of its length: no extra unit before it, a fresh allowance at it', () => {
    // T0 is a UTC day boundary, so a multiple of every window length.
    expect(T0 % BUDGET_WINDOW_MS.day).toBe(0);
    const { guardian, clock, ledger } = harness({}, stackWith(minuteP0, BUNDLE));
    clock.set(T0 + MINUTE - 1); // the last millisecond of a window
    expect(guardian.evaluate(bob(3)).record.reason_code).toBe('ALLOW'); // bob's ceiling is 3
    expect(guardian.evaluate(bob(1)).record.reason_code).toBe('BUDGET_EXCEEDED');
    const index = (T0 + MINUTE - 1 - ((T0 + MINUTE - 1) % MINUTE)) / MINUTE;
    expect(ledger.state(`minute:${index}|principal:bob`).reserved).toBe(3);
    clock.set(T0 + MINUTE); // the first millisecond of the next one
    expect(guardian.evaluate(bob(3)).record.reason_code).toBe('ALLOW');
    expect(guardian.evaluate(bob(1)).record.reason_code).toBe('BUDGET_EXCEEDED');
    expect(ledger.state(`minute:${index + 1}|principal:bob`).reserved).toBe(3);
    // Going back in time does not reopen a spent window either: accounts are per window index.
    clock.set(T0 + 1);
    expect(guardian.evaluate(bob(1)).record.reason_code).toBe('BUDGET_EXCEEDED');
  });

  it('fixed budgets never refill, whatever the clock says', () => {
    const { guardian, clock } = harness();
    expect(guardian.evaluate(bob(3)).record.reason_code).toBe('ALLOW');
    clock.advance(365 * BUDGET_WINDOW_MS.day);
    expect(guardian.evaluate(bob(1)).record.reason_code).toBe('BUDGET_EXCEEDED');
  });

  it('no principal or tenant id makes its account collide with another budget account', () => {
    const windows = ['fixed', 'minute', 'hour', 'day'] as const;
    const tuple = fc.record({
      kind: fc.constantFrom('principal', 'tenant'),
      id: fc.string({ unit: fc.constantFrom('a', '|', ':', 'p', '1', 'minute', 'fixed', 'principal:', '') }),
      window: fc.constantFrom(...windows),
      now: fc.integer({ min: 0, max: 4 * BUDGET_WINDOW_MS.day }),
      bundle: fc.option(fc.constantFrom('b', 'b:1', 'p1', 'minute:1', 'a/b'), { nil: undefined }),
    });
    type Tuple = typeof tuple extends fc.Arbitrary<infer T> ? T : never;
    const key = (t: Tuple) => {
      const span = t.window === 'fixed' ? null : Math.floor(t.now / BUDGET_WINDOW_MS[t.window]);
      return JSON.stringify([t.kind, t.id, t.window, span, t.bundle ?? null]);
    };
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        const same = key(a) === key(b);
        const accountA = budgetAccount(`${a.kind}:${a.id}`, a.window, a.now, a.bundle);
        const accountB = budgetAccount(`${b.kind}:${b.id}`, b.window, b.now, b.bundle);
        return (accountA === accountB) === same;
      }),
      { seed: 17, numRuns: 5_000 },
    );
    // The crafted case: a principal whose id spells another principal's windowed account.
    expect(budgetAccount('principal:bob', 'minute', T0)).toBe(`minute:${T0 / MINUTE}|principal:bob`);
    expect(budgetAccount(`principal:minute:${T0 / MINUTE}|principal:bob`, 'fixed', T0)).not.toBe(
      budgetAccount('principal:bob', 'minute', T0),
    );
  });

  it('a P1 budget narrows P0: its denial reserves nothing on P0, and its hourly window refills', () => {
    const hourly = {
      ...BUNDLE,
      budgets: {
        default_principal_max: 100,
        default_tenant_max: 100,
        principals: { alice: 2 },
        window: 'hour',
      },
    };
    const { guardian, clock, ledger } = harness({}, stackWith(P0, hourly));
    const alice = () => request();
    expect(guardian.evaluate(alice()).record.reason_code).toBe('ALLOW');
    expect(guardian.evaluate(alice()).record.reason_code).toBe('ALLOW');
    expect(ledger.state('principal:alice').reserved).toBe(2);
    const hour = Math.floor(T0 / BUDGET_WINDOW_MS.hour);
    expect(ledger.state(`p1:org-rules|hour:${hour}|principal:alice`).reserved).toBe(2);
    const denied = guardian.evaluate(alice()).record;
    expect(denied.reason_code).toBe('BUDGET_EXCEEDED');
    expect(denied.budget_reservation_id).toBeNull();
    expect(ledger.state('principal:alice').reserved).toBe(2); // P0 untouched by the denial
    clock.advance(BUDGET_WINDOW_MS.hour);
    expect(guardian.evaluate(alice()).record.reason_code).toBe('ALLOW');
    expect(ledger.state('principal:alice').reserved).toBe(3); // P0 (fixed, ceiling 100) keeps counting
  });

  it('two bundles of one name cannot both charge the same budget accounts', () => {
    const withBudgets = { ...BUNDLE, budgets: { default_principal_max: 5, default_tenant_max: 5 } };
    expect(loadCode(P0, withBudgets, { ...BUNDLE, rules: [] })).toBe('POLICY_BUNDLE_INVALID');
    expect(loadCode(P0, withBudgets, { ...BUNDLE, name: 'other-rules', rules: [] })).toBeUndefined();
  });

  it('unknown windows and malformed budgets are refused at load time', () => {
    expect(loadCode({ ...P0, budgets: { ...P0.budgets, window: 'week' } }, BUNDLE)).toBe(
      'POLICY_BUNDLE_INVALID',
    );
    expect(loadCode({ ...P0, budgets: { ...P0.budgets, window: 60_000 } }, BUNDLE)).toBe(
      'POLICY_BUNDLE_INVALID',
    );
    expect(loadCode(P0, { ...BUNDLE, budgets: { default_principal_max: 1 } })).toBe('POLICY_BUNDLE_INVALID');
    expect(
      loadCode(P0, {
        ...BUNDLE,
        budgets: { default_principal_max: 1, default_tenant_max: 1, windows: 'day' },
      }),
    ).toBe('POLICY_BUNDLE_INVALID');
    expect(loadCode(minuteP0, BUNDLE)).toBeUndefined();
  });
});

describe('budget windows: determinism', () => {
  it('the same clock readings give the same decisions, byte for byte', () => {
    const run = () => {
      const { guardian, clock } = harness({}, stackWith(minuteP0, BUNDLE));
      const out: string[] = [];
      for (const at of [0, MINUTE - 1, MINUTE, MINUTE + 1, 3 * MINUTE]) {
        clock.set(T0 + at);
        out.push(JSON.stringify(guardian.evaluate(bob(2)).decision));
      }
      return out;
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(
      first.map((d) => JSON.parse(Buffer.from(JSON.parse(d).payload, 'base64url').toString()).reason_code),
    ).toEqual(['ALLOW', 'BUDGET_EXCEEDED', 'ALLOW', 'BUDGET_EXCEEDED', 'ALLOW']);
  });

  it('a P0 without a window is the fixed budget it always was (same account names)', () => {
    const { guardian, ledger } = harness();
    expect(guardian.evaluate(bob(1)).record.reason_code).toBe('ALLOW');
    expect(ledger.state('principal:bob').reserved).toBe(1);
  });
});
