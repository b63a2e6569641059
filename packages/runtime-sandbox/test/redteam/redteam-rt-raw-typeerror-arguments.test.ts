// Red team (I-SANDBOX-5: "every public argument is checked up front (SANDBOX_INVALID_ARGUMENT,
// never a TypeError)"; sandbox.md §2 "run, instrumentedBytes accept only a handle equal in every
// field to one this sandbox issued — else SANDBOX_UNKNOWN_MODULE"). Two public arguments reach the
// engine unchecked:
//  1. a handle whose field cannot be converted to a string (a Symbol, an object without a
//     prototype) — `handleKey` joins the fields, so `run` rejects and `instrumentedBytes` throws a
//     bare TypeError ("Cannot convert a Symbol value to a string") instead of SANDBOX_UNKNOWN_MODULE;
//  2. `createSandbox({ clock })` is not checked: a clock without `nowMs` is accepted and every
//     later `run` rejects with a bare TypeError ("s.clock.nowMs is not a function");
//  3. bytes / input are checked with `instanceof Uint8Array` only, which a Proxy of a Uint8Array or
//     an object with Uint8Array.prototype passes: `register` then throws the engine's TypeError
//     ("WebAssembly.validate(): Argument 0 must be a buffer source", "Method get
//     TypedArray.prototype.length called on incompatible receiver"), `registerComponent` the
//     latter, `run` node's ERR_INVALID_ARG_TYPE TypeError from the seed's hash.
//
// Suggested fix: check `typeof handle.<field>` (strings, number, boolean) before building the key;
// validate `clock` (an object with a `nowMs` function) and `isolation` (prepare/run/close) in
// createSandbox; accept bytes only with the typed-array internal slot (`ArrayBuffer.isView` —
// false for a Proxy or a fake — and a Uint8Array tag read in a try) and copy them once, up front.
import { afterAll, describe, expect, it } from 'vitest';
import { type Clock, createSandbox, type ModuleHandle, SandboxError } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

async function failure(p: () => unknown): Promise<unknown> {
  try {
    await p();
    return undefined;
  } catch (e) {
    return e;
  }
}

const limits = { gas: 1000, timeout_ms: 5000, max_output_bytes: 0 };

describe('red team: I-SANDBOX-5 bad public arguments are SandboxErrors, never TypeErrors', () => {
  it('a handle with an unconvertible field is SANDBOX_UNKNOWN_MODULE (run, instrumentedBytes)', async () => {
    const bad = [
      { id: Symbol('x') },
      { id: 'sha256:00', source_digest: Object.create(null) },
    ] as unknown as ModuleHandle[];
    for (const handle of bad) {
      const fromRun = await failure(() => sandbox.run(handle, new Uint8Array(0), limits));
      expect(fromRun).toBeInstanceOf(SandboxError);
      const fromBytes = await failure(() => sandbox.instrumentedBytes(handle));
      expect(fromBytes).toBeInstanceOf(SandboxError);
    }
  });

  it('createSandbox refuses a clock it cannot read (or run never throws a TypeError)', async () => {
    let created: ReturnType<typeof createSandbox> | undefined;
    const e = await failure(() => {
      created = createSandbox({ clock: {} as unknown as Clock });
    });
    if (created === undefined) {
      expect(e).toBeInstanceOf(SandboxError);
      return;
    }
    try {
      const handle = await created.register(
        await wat('(module (memory (export "memory") 1) (func (export "_start")))'),
      );
      const fromRun = await failure(() => created?.run(handle, new Uint8Array(0), limits));
      expect(fromRun).toBeInstanceOf(SandboxError);
    } finally {
      await created.close();
    }
  });

  it('createSandbox refuses an isolation port without prepare/run/close (or run never throws a TypeError)', async () => {
    let created: ReturnType<typeof createSandbox> | undefined;
    const e = await failure(() => {
      created = createSandbox({ isolation: { prepare: async () => {} } as never });
    });
    if (created === undefined) {
      expect(e).toBeInstanceOf(SandboxError);
      return;
    }
    const handle = await created.register(
      await wat('(module (memory (export "memory") 1) (func (export "_start")))'),
    );
    // today: TypeError "s.isolation.run is not a function"
    expect(await failure(() => created?.run(handle, new Uint8Array(0), limits))).toBeInstanceOf(SandboxError);
  });

  it('a Proxy of a Uint8Array, or a fake one, is a SandboxError (register, registerComponent, run)', async () => {
    const bytes = await wat('(module (memory (export "memory") 1) (func (export "_start")))');
    const handle = await sandbox.register(bytes);
    const fakes = (real: Uint8Array) =>
      [
        new Proxy(real, {}),
        Object.setPrototypeOf({ length: real.length }, Uint8Array.prototype),
      ] as unknown as Uint8Array[];
    for (const fake of fakes(bytes)) {
      expect(await failure(() => sandbox.register(fake))).toBeInstanceOf(SandboxError);
      expect(await failure(() => sandbox.registerComponent(fake))).toBeInstanceOf(SandboxError);
    }
    for (const fake of fakes(new Uint8Array(3))) {
      expect(await failure(() => sandbox.run(handle, fake, limits))).toBeInstanceOf(SandboxError);
    }
  });
});
