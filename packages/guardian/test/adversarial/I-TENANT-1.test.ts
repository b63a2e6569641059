// I-TENANT-1 — a credential bound to tenants authenticates the tenant as well as the principal:
// the caller cannot name another tenant (to spend its budget, reach its stored results or its
// approvals) or drop the tenant (to escape its ceilings). Written from the attacker's side.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuardianError } from '../../src/index.ts';
import { harness, request } from '../fixtures.ts';

const tenantOf = fc.oneof(
  fc.constant(null),
  fc.constantFrom('acme', 'globex', 'initech'),
  fc.string({ maxLength: 12 }),
);

describe('I-TENANT-1: tenant-bound credentials authenticate the tenant', () => {
  it('property: a call is past identity only for a tenant the credential is bound to', () => {
    const { guardian } = harness({
      identity: {
        bindings: [
          { credential_id: 'cred-alice', principal: 'alice', tenants: ['acme', null] },
          { credential_id: 'cred-bob', principal: 'bob', tenants: ['globex'] },
          { credential_id: 'cred-agent', principal: 'agent-7' },
        ],
      },
    });
    fc.assert(
      fc.property(tenantOf, (tenant) => {
        const ev = guardian.evaluate(request({ tenant }));
        const bound = tenant === 'acme' || tenant === null;
        if (bound) expect(ev.record.decided_by).not.toBe('identity');
        else {
          // refused at identity (or earlier, when the tenant is not even well-formed)
          expect(ev.record.verdict).toBe('DENY');
          expect(['identity', 'context']).toContain(ev.record.decided_by);
        }
        if (ev.record.budget_reservation_id) guardian.refundBudget(ev.record.budget_reservation_id);
      }),
      { seed: 1, numRuns: 120 },
    );
  });

  it('a credential listed twice with different tenant sets is a configuration error', () => {
    expect(
      () =>
        harness({
          identity: {
            bindings: [
              { credential_id: 'cred-alice', principal: 'alice', tenants: ['acme'] },
              { credential_id: 'cred-alice', principal: 'alice', tenants: ['globex'] },
            ],
          },
        }).guardian,
    ).toThrow(GuardianError);
  });

  it('binding tenants changes the gate roster (what the decision attests was configured)', () => {
    const plain = harness().guardian.gateRosterHash;
    const bound = harness({
      identity: { bindings: [{ credential_id: 'cred-alice', principal: 'alice', tenants: ['acme'] }] },
    }).guardian.gateRosterHash;
    expect(bound).not.toBe(plain);
  });
});
