// Red team #17 (I-TOOL-1, I-GOVERN-1): "a registered descriptor changes only through `tool repin`"
// — but the pin the runtime enforces is just the digest of `tools/<name>.json` as it is on disk,
// and an applied repin is trusted to have been materialized there ("a later open has loaded it
// already"). A data-directory writer (no keys) writes the PREVIOUS descriptor back over the file
// after a signed repin was applied: the next runtime verifies the governance log, re-applies the
// repin as a no-op, and runs the tool's old body (here: the old WASM module, still in modules/).
// No error, no out-of-service tool, nothing in the log says the repin was undone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GovernedRuntime, initDataDir, listTools, registerTool, repinTool } from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-redteam17-repin-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ASSETS = fileURLToPath(new URL('../../../apps/cli/assets/wasm/', import.meta.url));
let clockMs = Date.UTC(2026, 11, 7, 12);
const clock = { now: () => clockMs };

const file = (name: string, content: unknown): string => {
  const path = join(root, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const descriptor = (driver: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'helm.tool.v1',
  name: 'w',
  description: 'w tool',
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { timeout_ms: 5_000, ...driver },
  ...extra,
});

describe('redteam-17 I-TOOL-1: an applied tool.repin undone by rewriting tools/<name>.json', () => {
  it('the repinned descriptor stays in force (or the runtime refuses the tool)', async () => {
    const dir = join(root, 'home');
    const { data } = initDataDir(dir, {
      bundle: {
        type: 'helm.policy.bundle.v1',
        name: 'all',
        version: 1,
        rules: [{ id: 'local-any', effect: 'allow', when: { principal: { eq: 'local' } } }],
      },
    });
    const call = {
      tool: 'w',
      principal: 'local',
      args: { probe: 1 } as never,
      context: {
        environment_fingerprint: data.config().environment_fingerprint,
        credential_id: 'cred-local',
      },
    };
    const run = async () => {
      clockMs += 1000;
      const rt = await GovernedRuntime.open(data, { clock });
      try {
        return await rt.execute(call);
      } finally {
        await rt.close();
      }
    };
    // v1: the echo module. The operator replaces it (say, a vulnerable version) by a signed repin.
    await registerTool(data, file('w1.json', descriptor({ kind: 'sandbox', ref: 'x' })), {
      wasm: join(ASSETS, 'echo.wat'),
    });
    const v1Descriptor = listTools(data)[0]?.descriptor as Record<string, unknown>;
    expect((await run()).output).toEqual({ probe: 1 });
    clockMs += 1000;
    const { staged } = await repinTool(
      data,
      file('w2.json', descriptor({ kind: 'sandbox', ref: 'x', timeout_ms: 200 }, { description: 'v2' })),
      { wasm: join(ASSETS, 'spin.wat') },
      clockMs,
    );
    const afterRepin = await run();
    expect(afterRepin.status).toBe('FAILED'); // v2 (spin) is in force
    expect(listTools(data)[0]?.descriptor_digest).toBe(staged.descriptor_digest);

    // The data-directory writer puts the old descriptor back (a plain file write, no key).
    writeFileSync(join(dir, 'tools', 'w.json'), JSON.stringify(v1Descriptor ?? staged.previous_descriptor));

    let outcome: string;
    try {
      const r = await run();
      outcome = `${r.status} ${JSON.stringify(r.output ?? null)}`;
    } catch (error) {
      outcome = `refused ${(error as { code?: string }).code}`;
    }
    data.close();
    // Expected: the runtime notices the registered descriptor is not the one the applied repin
    // pinned (refused, or the tool out of service). Actually: the pre-repin module runs again.
    expect(outcome, `after the writer reverted tools/w.json: ${outcome}`).not.toMatch(/^SUCCEEDED/);
    // The fix: the tool is out of service, as an edited plugin is (no decision, nothing runs).
    expect(outcome).toBe('refused TOOL_PIN_MISMATCH');
  });
});
