// I-SANDBOX-8 (CLI side) — a tool's `driver.ref` binds the exact registered module bytes. Two tools
// whose modules differ only in a custom section (dropped by instrumentation, so the code that runs
// is identical) both register, both survive a runtime open through the instrumented-module cache,
// and each is bound to its own bytes — the second no longer fails DRIVER_BINDING_MISMATCH with the
// first module's handle.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digest } from '@helm/crypto';
import { DataDir, GovernedRuntime, listTools } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { initCommand, runCall, toolRegister } from '../../src/commands/index.ts';
import { ECHO_TOOL, tempRoot } from '../helpers.ts';

const source = new Uint8Array(readFileSync(new URL('../../assets/wasm/echo.wasm', import.meta.url)));
/** The same module plus a custom section `helm-test` = [1]. */
const withCustom = Uint8Array.of(...source, 0x00, 0x0b, 0x09, ...new TextEncoder().encode('helm-test'), 0x01);

describe('I-SANDBOX-8: two modules differing only in a custom section are two bindings', () => {
  it('both register, both run, each bound to its own digest', async () => {
    expect(WebAssembly.validate(withCustom)).toBe(true);
    const root = tempRoot('helm-i-sandbox-8-');
    const dir = join(root, 'home');
    initCommand(dir);
    const data = new DataDir(dir);
    // `echo` is the tool the default policy allows; `two` is denied by policy but still registered.
    const files: Record<string, Uint8Array> = { echo: source, two: withCustom };
    for (const [name, bytes] of Object.entries(files)) {
      const wasm = join(root, `${name}.wasm`);
      writeFileSync(wasm, bytes);
      const desc = join(root, `${name}.json`);
      writeFileSync(
        desc,
        JSON.stringify({
          ...ECHO_TOOL,
          name,
          input_schema: { type: 'object' },
          driver: { kind: 'sandbox', ref: 'set-by-register', timeout_ms: 5000 },
        }),
      );
      await toolRegister(data, desc, wasm);
    }
    const refs = Object.fromEntries(listTools(data).map((t) => [t.name, t.driver.ref]));
    expect(refs).toMatchObject({ echo: digest(source), two: digest(withCustom) });
    // Two opens: the first may instrument, the second re-registers both from the cache.
    for (let i = 0; i < 2; i++) {
      const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
      await rt.close();
    }
    const ok = await runCall(data, { tool: 'echo', principal: 'local', args: '{"a":1}' });
    expect(ok.json, JSON.stringify(ok.json)).toMatchObject({ status: 'SUCCEEDED', output: { a: 1 } });
    // `two` is bound (it reaches the policy gate, which the default bundle closes for it).
    const two = await runCall(data, { tool: 'two', principal: 'local', args: '{"a":1}' });
    expect(two.json, JSON.stringify(two.json)).toMatchObject({ status: 'DENIED' });
    expect(JSON.stringify(two.json)).not.toContain('DRIVER_BINDING_MISMATCH');
    expect(JSON.stringify(two.json)).not.toContain('TOOL_UNKNOWN');
    data.close();
  });
});
