// Red team (#25), I-CONC-1: "Any number of calls in flight on one governed runtime behave as the
// same calls one at a time would" (and the chain must re-execute as recorded). Attacker: the
// caller, who controls the timing and concurrency of its calls. A call's budget reservation is
// taken at its decision, but its receipt's Lamport is minted at its end. Two calls of alice (cap:
// one call) in flight at once: A reserves the budget and waits for its admission's group commit;
// B is denied BUDGET_EXCEEDED because of A's reservation and its denial is minted FIRST. The chain
// then says: Lamport 1 — B denied BUDGET_EXCEEDED with nothing spent or reserved before it; Lamport
// 2 — A SUCCEEDED. No one-at-a-time run of these calls yields that chain, and re-executing it in
// Lamport order (reexecute) allows B.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@helm/guardian';
import { afterAll, expect, it } from 'vitest';
import { GovernedRuntime, initDataDir, reexecute } from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const dir = mkdtempSync(join(tmpdir(), 'helm-rt25-budget-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (i: number) => ({
  tool: 'echo',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

it('I-CONC-1 a budget denial is never receipted before the call whose reservation caused it', async () => {
  const { data } = initDataDir(dir, {
    chainId: 'rt25-order',
    fingerprint: FINGERPRINT,
    p0: {
      type: 'helm.policy.p0.v1',
      name: 'capped',
      forbidden_effect_types: [],
      budgets: {
        default_principal_max: 10_000,
        default_tenant_max: 10_000,
        principals: { alice: 1 },
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
  const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
  const results = await Promise.all([rt.execute(request(1)), rt.execute(request(2))]);
  await rt.close();
  expect(results.map((r) => r.status).sort()).toEqual(['DENIED', 'SUCCEEDED']);
  const chain = data.store
    .receiptsSync({ chainId: 'rt25-order' })
    .map(
      (r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()) as Record<string, unknown>,
    );
  const order = chain.map((b) => `${b.lamport} ${b.status}/${b.reason_code}`);
  // One at a time: the call that spent the budget comes before the call it was denied for.
  const firstDenied = chain.findIndex((b) => b.reason_code === 'BUDGET_EXCEEDED');
  const firstSucceeded = chain.findIndex((b) => b.status === 'SUCCEEDED');
  expect.soft(firstSucceeded, order.join(', ')).toBeLessThan(firstDenied);
  const again = await reexecute(data);
  expect(again.divergences).toEqual([]);
  data.close();
}, 60_000);
