// Budgets: atomic reserve → commit | refund against P0 ceilings.
import { describe, expect, it } from 'vitest';
import { type GuardianError, InMemoryBudgetLedger } from '../src/index.ts';
import { BUNDLE, harness, request, stack } from './fixtures.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

describe('in-memory budget ledger', () => {
  it('reserves atomically across accounts (all or nothing)', () => {
    const l = new InMemoryBudgetLedger();
    const charges = [
      { account: 'principal:a', ceiling: 10 },
      { account: 'tenant:t', ceiling: 5 },
    ];
    const r1 = l.reserve(charges, 4);
    expect(r1).toBe('budget-res-1');
    expect(l.reserve(charges, 2)).toBeNull();
    expect(l.state('principal:a')).toEqual({ spent: 0, reserved: 4 });
    l.commit(r1!);
    expect(l.state('principal:a')).toEqual({ spent: 4, reserved: 0 });
    expect(l.state('tenant:t')).toEqual({ spent: 4, reserved: 0 });
    const r2 = l.reserve(charges, 1)!;
    l.refund(r2);
    expect(l.state('tenant:t')).toEqual({ spent: 4, reserved: 0 });
    expect(code(() => l.refund(r2))).toBe('BUDGET_RESERVATION_UNKNOWN');
    expect(code(() => l.commit('nope'))).toBe('BUDGET_RESERVATION_UNKNOWN');
    expect(code(() => l.reserve(charges, -1))).toBe('BUDGET_EXCEEDED');
    expect(code(() => l.reserve(charges, 0.5))).toBe('BUDGET_EXCEEDED');
    expect(l.state('unknown')).toEqual({ spent: 0, reserved: 0 });
  });

  it('principal and tenant names that are Object.prototype members get the default ceiling', () => {
    const { guardian } = harness({
      identity: { bindings: [{ credential_id: 'cred-c', principal: 'constructor' }] },
    });
    for (const tenant of ['__proto__', 'toString']) {
      const r = request({ principal: 'constructor', tenant, cost: 101 }, { credential_id: 'cred-c' });
      expect(guardian.evaluate(r).record.reason_code).toBe('NO_POLICY');
    }
    // evaluate the budget stage directly through a permissive stack
    const permissive = harness(
      { identity: { bindings: [{ credential_id: 'cred-c', principal: 'constructor' }] } },
      stack([], { ...BUNDLE, rules: [{ id: 'all', effect: 'allow', when: {} }] }),
    );
    const over = request(
      { principal: 'constructor', tenant: 'toString', cost: 101 },
      { credential_id: 'cred-c' },
    );
    expect(permissive.guardian.evaluate(over).record.reason_code).toBe('BUDGET_EXCEEDED');
    const tenantOver = request(
      { principal: 'constructor', tenant: '__proto__', cost: 100 },
      { credential_id: 'cred-c' },
    );
    expect(permissive.guardian.evaluate(tenantOver).record.reason_code).toBe('ALLOW');
    expect(permissive.ledger.state('tenant:__proto__').reserved).toBe(100);
  });

  it('enforces P0 ceilings per principal and per tenant through the guardian', () => {
    const { guardian, ledger } = harness();
    // bob has an explicit P0 ceiling of 3
    const bob = (cost: number) => request({ principal: 'bob', cost }, { credential_id: 'cred-bob' });
    const first = guardian.evaluate(bob(2));
    expect(first.record.reason_code).toBe('ALLOW');
    expect(guardian.evaluate(bob(2)).record.reason_code).toBe('BUDGET_EXCEEDED');
    // the executor refunds a failed execution: the budget comes back
    ledger.refund(first.record.budget_reservation_id!);
    expect(guardian.evaluate(bob(3)).record.reason_code).toBe('ALLOW');
    // tenant default ceiling 1000; principal default 100
    const t = (cost: number) => request({ tenant: 'acme', cost });
    expect(guardian.evaluate(t(100)).record.reason_code).toBe('ALLOW');
    expect(ledger.state('tenant:acme').reserved).toBe(100);
    expect(guardian.evaluate(t(1)).record.reason_code).toBe('BUDGET_EXCEEDED');
    expect(ledger.state('tenant:acme').reserved).toBe(100);
  });
});
