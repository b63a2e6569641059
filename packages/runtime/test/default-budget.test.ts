// The default P0 that `initDataDir` (`helmts init`) writes caps each principal per UTC hour, not
// forever (#25): a principal who spends the whole allowance is refused for the rest of the hour and
// served again from the next one. Runs the real pipeline (guardian, SQLite ledger, receipts) with
// the default policy, under a manual clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUDGET_WINDOW_MS, ManualClock } from '@helm/guardian';
import { afterAll, describe, expect, it } from 'vitest';
import { GovernedRuntime, initDataDir } from '../src/index.ts';

const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;
const HOUR = BUDGET_WINDOW_MS.hour;
// 40 minutes into an hour, so the first window ends part-way through the test's timeline.
const T0 = Date.UTC(2026, 11, 7, 12, 40);
const root = mkdtempSync(join(tmpdir(), 'helm-default-budget-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('default P0 budget', () => {
  it('is windowed: capped within an hour, never locked out for good', { timeout: 180_000 }, async () => {
    const { data } = initDataDir(join(root, 'home'), { fingerprint: FINGERPRINT });
    expect(data.p0()).toMatchObject({
      budgets: { default_principal_max: 1000, default_tenant_max: 10000, window: 'hour' },
    });
    data.writeTool({
      type: 'helm.tool.v1',
      name: 'echo',
      description: 'echo',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'echo',
      driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
    });
    const clock = new ManualClock(T0);
    const rt = await GovernedRuntime.open(data, { clock });
    let x = 0;
    const call = async () => {
      x += 1;
      const r = await rt.execute({
        tool: 'echo',
        principal: 'local',
        args: { x },
        context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-local' },
      });
      return r.reason_code;
    };
    try {
      // Window 1: the whole allowance, spread over the rest of the hour; then refused.
      const step = Math.floor((HOUR - (T0 % HOUR) - 2_000) / 1000);
      for (let i = 0; i < 1000; i++) {
        expect(await call()).toBe('ALLOW');
        clock.advance(step);
      }
      expect(clock.now() % HOUR).toBeGreaterThan(0);
      expect(Math.floor(clock.now() / HOUR)).toBe(Math.floor(T0 / HOUR));
      expect(await call()).toBe('BUDGET_EXCEEDED');
      expect(await call()).toBe('BUDGET_EXCEEDED');
      // Window 2 starts at the next UTC hour: served again (a fresh account, same ceiling).
      clock.set(Math.ceil(T0 / HOUR) * HOUR);
      expect(await call()).toBe('ALLOW');
      expect(await call()).toBe('ALLOW');
      // A day later: still served (no permanent lock-out).
      clock.advance(24 * HOUR);
      expect(await call()).toBe('ALLOW');
    } finally {
      await rt.close();
      data.close();
    }
  });
});
