// The sandbox driver against the real @helm/runtime-sandbox (real WASM in a worker).
import { readFileSync } from 'node:fs';
import type { ToolDescriptor } from '@helm/contracts';
import { createSandbox, type Sandbox } from '@helm/runtime-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, ExecutorError, sandboxDriver, sandboxReasonCode } from '../src/index.ts';
import {
  decodePayload,
  ListGraph,
  ManualClock,
  ManualTimer,
  makeRecorder,
  ScriptedGuardian,
} from './helpers/kit.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string' } },
};

function descriptor(name: string, ref: string): ToolDescriptor {
  return {
    type: 'helm.tool.v1',
    name,
    description: 'WASM tool',
    input_schema: schema,
    output_schema: schema,
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    // Generous wall-clock deadline: the machine may be loaded; gas bounds the spinning guest.
    driver: { kind: 'sandbox', ref, timeout_ms: 120_000 },
  };
}

describe('sandbox driver', () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    sandbox = createSandbox({ poolSize: 1 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  function setup() {
    const clock = new ManualClock();
    const guardian = new ScriptedGuardian(clock);
    const { recorder } = makeRecorder();
    const executor = createExecutor({
      guardian,
      guardianKeys: guardian.keys,
      receipts: recorder,
      proofgraph: new ListGraph(),
      clock,
      timer: new ManualTimer(),
    });
    return { executor, guardian };
  }

  it('runs a registered WASM tool with the validated args as stdin and releases validated stdout', async () => {
    const { executor } = setup();
    const module = await sandbox.register(fixture('echo.wasm'));
    executor.registerTool(
      descriptor('wasm.echo', module.source_digest),
      sandboxDriver({ sandbox, module, gas: 1_000_000, maxOutputBytes: 65_536 }),
    );
    const r = await executor.execute({ tool: 'wasm.echo', principal: 'alice', args: { text: 'héllo' } });
    expect(r.message).toBeUndefined();
    expect(r.status).toBe('SUCCEEDED');
    expect(r.output).toEqual({ text: 'héllo' });
    expect(decodePayload(r.receipt!).output_hash).toMatch(/^sha256:/);
  });

  it('maps sandbox failures to receipt reason codes and releases nothing', async () => {
    const { executor } = setup();
    const trap = await sandbox.register(fixture('trap.wasm'));
    const spin = await sandbox.register(fixture('spin.wasm'));
    executor.registerTool(
      descriptor('wasm.trap', trap.source_digest),
      sandboxDriver({ sandbox, module: trap, gas: 1_000_000, maxOutputBytes: 1024 }),
    );
    executor.registerTool(
      descriptor('wasm.spin', spin.source_digest),
      sandboxDriver({ sandbox, module: spin, gas: 10_000, maxOutputBytes: 1024 }),
    );
    const trapped = await executor.execute({ tool: 'wasm.trap', principal: 'alice', args: { text: 'x' } });
    expect(trapped).toMatchObject({ status: 'FAILED', reason_code: 'SANDBOX_TRAP_UNREACHABLE' });
    expect(trapped.output).toBeUndefined();
    const spun = await executor.execute({ tool: 'wasm.spin', principal: 'alice', args: { text: 'x' } });
    expect(spun).toMatchObject({ status: 'FAILED', reason_code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
  });

  it('stdout over the cap is ERR_COMPUTE_OUTPUT_EXHAUSTED; non-JSON stdout is SANDBOX_OUTPUT_INVALID', async () => {
    const { executor } = setup();
    const echo = await sandbox.register(fixture('echo.wasm'));
    const garbage = await sandbox.register(fixture('garbage.wasm'));
    executor.registerTool(
      {
        ...descriptor('wasm.small', echo.source_digest),
        input_schema: { type: 'string' },
        output_schema: {},
      },
      sandboxDriver({ sandbox, module: echo, gas: 1_000_000, maxOutputBytes: 10 }),
    );
    executor.registerTool(
      { ...descriptor('wasm.garbage', garbage.source_digest), output_schema: {} },
      sandboxDriver({ sandbox, module: garbage, gas: 1_000_000, maxOutputBytes: 1024 }),
    );
    const big = await executor.execute({ tool: 'wasm.small', principal: 'alice', args: 'a'.repeat(64) });
    expect(big).toMatchObject({ status: 'FAILED', reason_code: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    const junk = await executor.execute({ tool: 'wasm.garbage', principal: 'alice', args: { text: 'x' } });
    expect(junk).toMatchObject({ status: 'FAILED', reason_code: 'SANDBOX_OUTPUT_INVALID' });
    expect(junk.output).toBeUndefined();
  });

  it('refuses a binding to another module', async () => {
    const { executor } = setup();
    const module = await sandbox.register(fixture('echo.wasm'));
    expect(() =>
      executor.registerTool(
        descriptor('wasm.wrong', `sha256:${'0'.repeat(64)}`),
        sandboxDriver({ sandbox, module, gas: 1, maxOutputBytes: 1 }),
      ),
    ).toThrow(ExecutorError);
  });

  it('maps codes', () => {
    expect(sandboxReasonCode('SANDBOX_TRAP_FUTURE_KIND')).toBe('SANDBOX_TRAP');
    expect(sandboxReasonCode('ERR_COMPUTE_TIME_EXHAUSTED')).toBe('ERR_COMPUTE_TIME_EXHAUSTED');
    expect(sandboxReasonCode(undefined)).toBe('DRIVER_ERROR');
    expect(sandboxReasonCode('ALLOW')).toBe('DRIVER_ERROR');
    expect(sandboxReasonCode('SANDBOX_WEIRD')).toBe('DRIVER_ERROR');
  });
});
