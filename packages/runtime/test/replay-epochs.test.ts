// #25: `replay --reexecute` re-executes a data directory in which every call was its own runtime
// epoch (each `helmts run` is one) without reopening the runtime per epoch — each epoch starts in
// place (renewEpoch: a fresh guardian and ledger, the governance log re-applied) — and still
// reproduces every receipt byte for byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@helm/guardian';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDir, GovernedRuntime, initDataDir, reexecute } from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('re-execution across epochs', () => {
  it('one epoch per call: every receipt reproduced, the runtime opened once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-rt-epochs-'));
    roots.push(dir);
    const { data } = initDataDir(dir, {
      chainId: 'epochs',
      fingerprint: FINGERPRINT,
      p0: {
        type: 'helm.policy.p0.v1',
        name: 'small',
        forbidden_effect_types: [],
        // A cap the calls run into: later epochs' decisions depend on what earlier ones spent.
        budgets: {
          default_principal_max: 100,
          default_tenant_max: 100,
          principals: { alice: 6 },
          window: 'hour',
        },
        max_delegation_ttl_ms: 3_600_000,
        require_delegation_mfa: false,
      },
      bundle: {
        type: 'helm.policy.bundle.v1',
        name: 'r',
        version: 1,
        rules: [{ id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } }],
      },
      identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
    });
    data.writeTool({
      type: 'helm.tool.v1',
      name: 'echo',
      description: 'echo',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'run',
      driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
    });
    const clock = new ManualClock(T0);
    const reasons: string[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(1_000);
      const rt = await GovernedRuntime.open(data, { clock });
      try {
        const r = await rt.execute({
          tool: 'echo',
          principal: 'alice',
          args: { i } as never,
          context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
        });
        reasons.push(r.reason_code);
      } finally {
        await rt.close();
      }
    }
    expect(reasons.filter((r) => r === 'BUDGET_EXCEEDED')).toHaveLength(2);
    data.close();

    const open = GovernedRuntime.open;
    let opens = 0;
    GovernedRuntime.open = (...args: Parameters<typeof open>) => {
      opens += 1;
      return open.apply(GovernedRuntime, args);
    };
    const again = new DataDir(dir);
    try {
      const result = await reexecute(again);
      expect(result.divergences).toEqual([]);
      expect(result.identical).toBe(8);
    } finally {
      GovernedRuntime.open = open;
      again.close();
    }
    expect(opens).toBe(1);
  });
});
