// Red team (I-SANDBOX-5: "every registration failure is a SandboxError"; sandbox.md §2: "Every
// registration failure is a SandboxError; no engine error escapes"). Registration reads its
// options and pin without checking them: `register(bytes, null)`, `registerComponent(bytes, null)`
// and `registerInstrumented(bytes, null)` throw a bare TypeError, and a non-boolean
// `canonicalizeNaN` is copied into the handle (`canonicalize_nan: "no"` — truthy, so NaNs *are*
// canonicalized while the handle, which a registration record binds, says "no").
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, type RegisterOptions, SandboxError } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

const source = () => wat(`(module (memory (export "memory") 1) (func (export "_start")))`);

async function failure(p: () => Promise<unknown>): Promise<unknown> {
  try {
    await p();
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('red team: registration refuses bad arguments with a SandboxError', () => {
  it('null options / pin', async () => {
    const bytes = await source();
    for (const attempt of [
      () => sandbox.register(bytes, null as unknown as RegisterOptions),
      () => sandbox.registerComponent(bytes, null as unknown as RegisterOptions),
      () => sandbox.registerInstrumented(bytes, null as never),
    ]) {
      const e = await failure(attempt);
      expect(e).toBeInstanceOf(SandboxError);
    }
  });

  it('a non-boolean canonicalizeNaN is refused, or the handle says a boolean', async () => {
    const bytes = await source();
    let handle: unknown;
    const e = await failure(async () => {
      handle = await sandbox.register(bytes, { canonicalizeNaN: 'no' as unknown as boolean });
    });
    if (e !== undefined) expect(e).toBeInstanceOf(SandboxError);
    else expect(typeof (handle as { canonicalize_nan: unknown }).canonicalize_nan).toBe('boolean');
  });
});
