// I-FAILCLOSED-1..3 — the fail-closed hunts: an unconfigured gate, a missing policy, a store that
// cannot record. Each denies with a stable code, runs no driver, releases nothing; where a receipt
// is possible, there is one.
import type { GuardianOptions } from '@helm/guardian';
import { describe, expect, it } from 'vitest';
import type { AdmissionJournal, ExecuteRequest } from '../../src/index.ts';
import { aliceContext, build } from '../helpers/world.ts';

const READ: ExecuteRequest = {
  tool: 'files.read',
  principal: 'alice',
  args: { path: '/data/report.csv' },
  context: aliceContext(),
};

const GATES: (keyof GuardianOptions)[] = [
  'freeze',
  'environmentFingerprint',
  'identity',
  'egress',
  'threat',
  'delegation',
  'budget',
  'approvals',
];

describe('I-FAILCLOSED-1: an unconfigured gate denies every call', () => {
  for (const gate of GATES) {
    it(`without ${gate}: GATE_NOT_CONFIGURED, receipted, no driver`, async () => {
      const w = build({ guardian: { [gate]: undefined } });
      const r = await w.executor.execute(READ);
      expect(r).toMatchObject({ status: 'DENIED', reason_code: 'GATE_NOT_CONFIGURED' });
      expect(r.receipt).not.toBeNull();
      expect(r.output).toBeUndefined();
      expect(w.driverCalls).toHaveLength(0);
    });
  }
});

describe('I-FAILCLOSED-2: no policy, no call', () => {
  it('a guardian without a policy stack denies with NO_POLICY', async () => {
    const w = build({ guardian: { policy: undefined } });
    const r = await w.executor.execute(READ);
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'NO_POLICY' });
    expect(r.receipt).not.toBeNull();
    expect(w.driverCalls).toHaveLength(0);
  });
});

describe('I-FAILCLOSED-3: no durable admission, no effect', () => {
  it('a journal that cannot admit ends the call before the driver (RECEIPT_PERSIST_FAILED, DENIED, refunded)', async () => {
    const failing: AdmissionJournal = {
      admit: () => {
        throw new Error('disk full');
      },
      complete: () => {},
      pending: () => [],
    };
    const w = build({ journal: failing });
    const r = await w.executor.execute(READ);
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'RECEIPT_PERSIST_FAILED' });
    expect(r.output).toBeUndefined();
    expect(w.driverCalls).toHaveLength(0);
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 0 });
  });

  it('an idempotency store that cannot be read releases nothing and runs nothing (INTERNAL_ERROR)', async () => {
    const w = build({
      idempotency: {
        get: () => {
          throw new Error('store offline');
        },
        put: () => {},
      },
    });
    const r = await w.executor.execute(READ);
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'INTERNAL_ERROR' });
    expect(r.output).toBeUndefined();
    expect(w.driverCalls).toHaveLength(0);
    expect(w.ledger.state('principal:alice')).toEqual({ spent: 0, reserved: 0 });
  });
});
