// Red team (I-SANDBOX-4, sandbox.md §5): "A run with budget b succeeds iff b ≥ the gas it needs",
// and "a budget b buys at most 16·b bytes of bulk memory work and b / 8 table elements". For a
// preview2 component every core instance's counter *and* the host's each start at the full budget
// (component-run.ts), and `gas_used` is their sum: a component with k core instances can do up to
// (k + 1) × b of work under a budget of b and still end `ok`, reporting gas_used > b. The number of
// instances is the component author's choice (a component may instantiate the same core module
// any number of times), so the budget bounds nothing. Shown with the committed jco fixture: the
// run that needs G gas still succeeds with a budget of G − 1 — and with far less.
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { COMPONENT_BYTES, fixtureTranspiler } from '../helpers/component.ts';

const sandbox = createSandbox({ poolSize: 1, componentTranspiler: fixtureTranspiler });
afterAll(() => sandbox.close());

const input = new TextEncoder().encode('x'.repeat(5000));
const limits = (gas: number) => ({ gas, timeout_ms: 20_000, max_output_bytes: 1 << 20 });

describe('red team: a component run never consumes more gas than its budget', () => {
  it('gas_used ≤ budget, and a budget below the gas needed is ERR_COMPUTE_GAS_EXHAUSTED', async () => {
    const h = await sandbox.registerComponent(COMPONENT_BYTES);
    const full = await sandbox.run(h, input, limits(10_000_000));
    expect(full.ok).toBe(true);
    const needed = full.gas_used as number;
    expect(needed).toBeGreaterThan(0);

    for (const budget of [needed - 1, Math.floor(needed * 0.85)]) {
      const r = await sandbox.run(h, input, limits(budget));
      // the work of `needed` gas does not fit in `budget`
      expect(r.gas_used as number).toBeLessThanOrEqual(budget);
      expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    }
  });
});
