// Red team (#25), I-CONC-1: "Any number of calls in flight on one governed runtime behave as the
// same calls one at a time would". Attacker: the caller (timing, concurrency, repetition). An
// idempotent repeat must pass the budget gate now (I-REPLAY-1: budget headroom), so it reserves —
// and is then refunded (a replay is never charged). While that reservation is held, an ordinary
// call of the same principal is decided against it and denied BUDGET_EXCEEDED. In every
// one-at-a-time order of the same two calls the ordinary call SUCCEEDS (repeat first: it is
// refunded, 1 of 2 spent; ordinary call first: 1 + 1 ≤ 2). Concurrency turns a call that no serial
// order denies into a denial, and the budget ends with headroom the denied call was refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@helm/guardian';
import { afterAll, expect, it } from 'vitest';
import { GovernedRuntime, initDataDir } from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const dir = mkdtempSync(join(tmpdir(), 'helm-rt25-replay-res-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (i: number, key?: string) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
  ...(key ? { idempotency_key: key } : {}),
});

it('I-CONC-1 an idempotent repeat in flight never makes an ordinary call a budget denial', async () => {
  const { data } = initDataDir(dir, {
    chainId: 'rt25-replay',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 10_000,
        default_tenant_max: 10_000,
        principals: { alice: 2 },
        window: 'hour',
      },
      max_delegation_ttl_ms: 3_600_000,
      require_delegation_mfa: false,
    },
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [{ id: 'echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  } as never);
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
  const rt = await GovernedRuntime.open(data, { clock });
  try {
    const first = await rt.execute(request(1, 'k-1'));
    expect(first.status).toBe('SUCCEEDED'); // 1 of 2 spent
    clock.advance(1);
    const [repeat, ordinary] = await Promise.all([rt.execute(request(1, 'k-1')), rt.execute(request(2))]);
    expect(repeat.reason_code).toBe('IDEMPOTENT_REPLAY');
    expect(`${ordinary.status}/${ordinary.reason_code}`).toBe('SUCCEEDED/ALLOW');
  } finally {
    await rt.close();
    data.close();
  }
}, 60_000);
