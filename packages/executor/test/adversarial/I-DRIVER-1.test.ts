// I-DRIVER-1 — nothing a driver throws or returns can change the recorded fact that it ran: the
// call ends FAILED (never DENIED), with a signed receipt, no output, the admission closed and the
// reservation charged. I-DRIVER-2 — a driver reports only codes of DRIVER_FAILURE_CODES.
import { DRIVER_FAILURE_CODES, REASON_CODE_LIST } from '@helm/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriverFailure, descriptorDigest, functionDriver } from '../../src/index.ts';
import { body, build, readTool, type World } from '../helpers/world.ts';
import { call, MISBEHAVIOURS, misbehave } from './hostile-driver.ts';

function withDriver(invoke: () => unknown): World {
  const w = build();
  w.executor.repinTool(readTool, descriptorDigest(readTool), functionDriver(invoke));
  return w;
}

describe('I-DRIVER-1: whatever a driver throws or returns, the call is recorded as run', () => {
  for (const kind of MISBEHAVIOURS) {
    it(`${kind}: FAILED, receipted, no output, charged`, async () => {
      const w = withDriver(() => misbehave(kind));
      const r = await call(w, '/data/report.csv');
      expect(r.status).toBe('FAILED');
      expect(r.verdict).toBe('DENY');
      expect(r.output).toBeUndefined();
      expect(r.receipt).not.toBeNull();
      expect(body<{ status: string }>(r.receipt!).status).toBe('FAILED');
      expect(r.admission_id).not.toBeNull();
      expect(w.ledger.state('principal:alice')).toEqual({ spent: 1, reserved: 0 });
      expect(typeof r.message).toBe('string');
    });
  }

  it('property: any thrown value (fast-check anything) ends FAILED with DRIVER_ERROR and a receipt', async () => {
    const w = build({ p0: { budgets: { default_principal_max: 10_000, default_tenant_max: 10_000 } } });
    let toThrow: unknown;
    w.executor.repinTool(
      readTool,
      descriptorDigest(readTool),
      functionDriver(() => {
        throw toThrow;
      }),
    );
    let spent = 0;
    await fc.assert(
      fc.asyncProperty(fc.anything({ withNullPrototype: true, withObjectString: true }), async (value) => {
        toThrow = value;
        const r = await call(w, `/data/any-${spent}.csv`);
        spent += 1;
        expect(r).toMatchObject({ status: 'FAILED', reason_code: 'DRIVER_ERROR' });
        expect(r.receipt).not.toBeNull();
        expect(w.ledger.state('principal:alice').spent).toBe(spent);
      }),
      { seed: 61, numRuns: 80 },
    );
  });
});

describe('I-DRIVER-2: a driver can describe its own failure, never claim a HELM decision', () => {
  it('property: DriverFailure(code) is recorded as code iff code is a driver-failure code', async () => {
    const w = build({ p0: { budgets: { default_principal_max: 10_000, default_tenant_max: 10_000 } } });
    let code = '';
    w.executor.repinTool(
      readTool,
      descriptorDigest(readTool),
      functionDriver(() => {
        throw new DriverFailure(code, 'claimed');
      }),
    );
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...REASON_CODE_LIST), fc.string(), fc.constantFrom('__proto__', 'toString')),
        async (claimed) => {
          code = claimed;
          const r = await call(w, `/data/c-${i++}.csv`);
          const expected = (DRIVER_FAILURE_CODES as readonly string[]).includes(claimed)
            ? claimed
            : 'DRIVER_ERROR';
          expect(r.status).toBe('FAILED');
          expect(r.reason_code).toBe(expected);
          expect(body<{ reason_code: string }>(r.receipt!).reason_code).toBe(expected);
        },
      ),
      { seed: 62, numRuns: 120 },
    );
  });

  it('a DriverFailure whose code answers differently on each read cannot choose its receipt code', async () => {
    for (const make of [
      () => {
        const failure = new DriverFailure('DRIVER_ERROR', 'x');
        let reads = 0;
        // DriverFailure.code is a non-writable own property: redefining it must fail…
        expect(() => Object.defineProperty(failure, 'code', { get: () => 'POLICY_DENY' })).toThrow(TypeError);
        // …so the attacker subclasses instead, with a getter that flips after the first read.
        class Flipping extends DriverFailure {
          override get code(): string {
            reads += 1;
            return reads === 1 ? 'DRIVER_ERROR' : 'POLICY_DENY';
          }
        }
        return Object.setPrototypeOf(failure, Flipping.prototype) as DriverFailure;
      },
      () =>
        new Proxy(new DriverFailure('SANDBOX_TRAP', 'x'), {
          get(target, key, receiver) {
            if (key === 'code') {
              (target as unknown as { n?: number }).n = ((target as unknown as { n?: number }).n ?? 0) + 1;
              return (target as unknown as { n: number }).n === 1
                ? 'SANDBOX_TRAP'
                : 'GATE_IDENTITY_ISOLATION';
            }
            return Reflect.get(target, key, receiver);
          },
        }),
    ]) {
      const w = withDriver(() => {
        throw make();
      });
      const r = await call(w, '/data/report.csv');
      expect(r.status).toBe('FAILED');
      expect(['DRIVER_ERROR', 'SANDBOX_TRAP']).toContain(r.reason_code);
      expect(body<{ reason_code: string }>(r.receipt!).reason_code).toBe(r.reason_code);
    }
  });
});
