// Red team (s7), I-CONC-1: "close() starts nothing new (RUNTIME_CLOSED) and returns only once every
// call begun before it has ended, so no call is stranded on a closed store or outlives its chain
// lock". Attack: the public methods of GovernedRuntime that do work on the store but are not counted
// in by the WorkGate (work-gate.ts): renewEpoch() — the re-execution entry that writes the epoch
// counter, re-reads the governance log and ingests it — after close() returned, i.e. after the
// runtime released its chain lock and another runtime took the chain.
// Second case: a renewEpoch() begun before close() is not waited for — close() returns (chain lock
// and store released) while renewEpoch() still runs.
// Controls: execute(), ingestGovernance() and loadTool() after close() are refused RUNTIME_CLOSED.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDir, GovernedRuntime, initDataDir } from '../src/index.ts';

const FINGERPRINT = `sha256:${'5e'.repeat(32)}`;
const clock = { now: () => Date.now() };
const root = mkdtempSync(join(tmpdir(), 'helm-rt-s7-close-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PAY = {
  type: 'helm.tool.v1',
  name: 'pay2',
  description: 'echo',
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
};

function template(name: string): DataDir {
  const { data } = initDataDir(join(root, name), {
    chainId: name,
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'pay',
    description: 'echo',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  return data;
}

const call = (i: number) => ({
  tool: 'pay',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
};

describe('red team s7: work on a closed runtime (I-CONC-1)', () => {
  it('controls: execute, ingestGovernance and loadTool after close() are refused RUNTIME_CLOSED', async () => {
    const t = template('controls');
    const rt = await GovernedRuntime.open(t, { clock });
    expect((await rt.execute(call(1))).status).toBe('SUCCEEDED');
    await rt.close();
    expect(await codeOf(rt.execute(call(2)))).toBe('RUNTIME_CLOSED');
    expect(await codeOf(rt.ingestGovernance())).toBe('RUNTIME_CLOSED');
    expect(await codeOf(rt.loadTool(PAY as never))).toBe('RUNTIME_CLOSED');
    t.close();
  });

  it('renewEpoch() on a closed runtime is refused, and writes nothing under the next holder of the chain', async () => {
    const t = template('renew');
    const a = await GovernedRuntime.open(t, { clock });
    expect((await a.execute(call(1))).status).toBe('SUCCEEDED');
    await a.close();
    // Another runtime takes the chain (the lock a released is free again).
    const t2 = new DataDir(t.dir);
    const b = await GovernedRuntime.open(t2, { clock });
    try {
      const epochBefore = b.epoch;
      // The attack: the closed runtime starts its next epoch in place. It should be RUNTIME_CLOSED
      // (nothing starts once close() began); if it runs, it writes the epoch counter and ingests the
      // governance log on a chain now held by b.
      const storedBefore = t2.store.getDocumentSync('meta', 'epoch');
      const outcome = await codeOf(a.renewEpoch());
      // What the closed runtime wrote under b: the embedded store's epoch counter ('meta'/'epoch').
      const storedAfter = t2.store.getDocumentSync('meta', 'epoch');
      expect({ outcome, epochCounterMoved: storedAfter !== storedBefore }).toEqual({
        outcome: 'RUNTIME_CLOSED',
        epochCounterMoved: false,
      });
      // And b's chain continues under b's epoch.
      expect((await b.execute(call(2))).status).toBe('SUCCEEDED');
      expect(b.epoch).toBe(epochBefore);
    } finally {
      await b.close();
      t2.close();
      t.close();
    }
  });
  it('close() begun while renewEpoch() runs waits for it: renewEpoch does not end after close() returned', async () => {
    const t = template('renew-during');
    const rt = await GovernedRuntime.open(t, { clock });
    expect((await rt.execute(call(1))).status).toBe('SUCCEEDED');
    const order: string[] = [];
    const renewing = rt.renewEpoch().then(
      () => order.push('renewEpoch ended'),
      () => order.push('renewEpoch ended'),
    );
    await rt.close();
    order.push('close returned');
    await renewing;
    t.close();
    expect(order).toEqual(['renewEpoch ended', 'close returned']);
  });
});
