// I-BUDGET-1 — once a driver may have started, the call's reservation is charged on every path.
// A malicious tool that always fails must not get unlimited effects against a small budget: with
// a budget of 3, the driver runs at most 3 times however it fails, and the ledger's spend equals
// the number of driver invocations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { descriptorDigest, functionDriver } from '../../src/index.ts';
import { build, readTool } from '../helpers/world.ts';
import { call, MISBEHAVIOURS, type Misbehaviour, misbehave } from './hostile-driver.ts';

describe('I-BUDGET-1: a driver that may have started is always charged', () => {
  it('property: however the driver fails, spend = driver invocations, nothing stays reserved', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...MISBEHAVIOURS), { minLength: 4, maxLength: 12 }),
        async (plan) => {
          const w = build({ p0: { budgets: { default_principal_max: 3, default_tenant_max: 1000 } } });
          let invocations = 0;
          let next: Misbehaviour = plan[0]!;
          w.executor.repinTool(
            readTool,
            descriptorDigest(readTool),
            functionDriver(() => {
              invocations += 1;
              return misbehave(next);
            }),
          );
          for (const [i, kind] of plan.entries()) {
            next = kind;
            const r = await call(w, `/data/f${i}.csv`);
            expect(r.output).toBeUndefined();
            expect(r.receipt).not.toBeNull();
            if (r.reason_code === 'BUDGET_EXCEEDED') expect(r.status).toBe('DENIED');
            else expect(r.status).toBe('FAILED');
          }
          expect(invocations).toBe(Math.min(3, plan.length));
          expect(w.ledger.state('principal:alice')).toEqual({ spent: invocations, reserved: 0 });
        },
      ),
      { seed: 31, numRuns: 25 },
    );
  });

  it('31 failing effects against a budget of 3: 3 run and are charged, 28 are denied before the driver', async () => {
    const w = build({ p0: { budgets: { default_principal_max: 3, default_tenant_max: 1000 } } });
    let invocations = 0;
    w.executor.repinTool(
      readTool,
      descriptorDigest(readTool),
      functionDriver(() => {
        invocations += 1;
        throw new Error('fails after the effect');
      }),
    );
    const codes: string[] = [];
    for (let i = 0; i < 31; i++) codes.push((await call(w, `/data/${i}.csv`)).reason_code);
    expect(invocations).toBe(3);
    expect(codes.filter((c) => c === 'DRIVER_ERROR')).toHaveLength(3);
    expect(codes.filter((c) => c === 'BUDGET_EXCEEDED')).toHaveLength(28);
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 3, reserved: 0 });
  });
});
