// The governed runtime over a real data directory: real guardian, executor, receipts, ProofGraph,
// trust registry and SQLite store. What the CLI, the server and the gateway all rely on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePack } from '@helm/evidencepack';
import { ManualClock } from '@helm/guardian';
import { describe, expect, it } from 'vitest';
import { exportPack, GovernedRuntime, initDataDir, RuntimeError, reexecute } from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = 'sha256:' + 'ab'.repeat(32);

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'helm-runtime-'));
  const { data, anchor } = initDataDir(dir, {
    chainId: 'rt-test',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rt-rules',
      version: 1,
      rules: [
        { id: 'allow-echo', effect: 'allow', when: { principal: { in: ['alice'] }, tool: { in: ['echo'] } } },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo its args',
    input_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string' } },
    },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    resource_pointer: '/text',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  return { dir, data, anchor };
}

const call = (tool: string, args: unknown, credential = 'cred-alice') => ({
  tool,
  principal: 'alice',
  args: args as never,
  context: { environment_fingerprint: FINGERPRINT, credential_id: credential },
});

describe('GovernedRuntime', () => {
  it('executes an allowed call, denies the rest with receipts, and its pack verifies and re-executes', async () => {
    const { data, anchor } = fresh();
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      const ok = await rt.execute(call('echo', { text: 'hi' }));
      expect(ok.reason_code).toBe('ALLOW');
      expect(ok.status).toBe('SUCCEEDED');
      expect(ok.output).toEqual({ text: 'hi' });
      clock.advance(1_000);
      const unknown = await rt.execute(call('nope', {}));
      expect(unknown.status).toBe('DENIED');
      expect(unknown.receipt).toBeDefined();
      clock.advance(1_000);
      const badArgs = await rt.execute(call('echo', { text: 1 }));
      expect(badArgs.status).toBe('DENIED');
      expect(badArgs.reason_code).toBe('SCHEMA_VIOLATION');
    } finally {
      await rt.close();
    }
    expect(data.store.receiptsSync({ chainId: 'rt-test' })).toHaveLength(3);
    const pack = exportPack(data);
    const report = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor });
    expect(report.status).toBe('PASS');
    const again = await reexecute(data);
    expect(again.divergences).toEqual([]);
  });

  it('holds the data directory lock: a second runtime is refused until the first closes', async () => {
    const { data } = fresh();
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
    });
    await rt.close();
    const second = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    await second.close();
  });

  it('refuses an uninitialized directory with a typed error', async () => {
    const { DataDir } = await import('../src/index.ts');
    const data = new DataDir(mkdtempSync(join(tmpdir(), 'helm-runtime-empty-')));
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toBeInstanceOf(
      RuntimeError,
    );
  });
});
