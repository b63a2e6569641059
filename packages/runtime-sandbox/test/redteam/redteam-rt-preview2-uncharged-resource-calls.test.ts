// Red team (I-SANDBOX-3: "Every WASI host call is charged gas before the work it pays for (per
// call, …)"; sandbox.md §"Host-call costs", Preview2: "Host calls charge the counter: the base on
// every host function and resource method"). The preview2 host wraps only the plain functions of
// each interface; resource classes are left to "charge the base themselves", and some do not:
//  1. `[method]error.to-debug-string` (IoError#toDebugString) charges nothing — a guest holding an
//     io error (any refused write hands one out) calls it for free, and the glue lowers a string
//     into guest memory per call;
//  2. resource constructors are callable host code that charges nothing: the registration check is
//     by interface name only, and a component declares its own import types, so importing
//     `wasi:io/poll` with a `[constructor]pollable` (jco lowers it to `new Pollable(…)`) allocates a
//     host object and a handle-table entry per call for the guest's ~1 gas of `call` (checked with
//     the pinned jco-transpile 0.15.0 on a hand-encoded component importing `wasi:io/poll@0.2.0`
//     with `[constructor]pollable`: imports ['wasi:io/poll'], glue
//     `fn: () => _trackHostOperation(() => new Pollable())`);
//  3. every interface object inherits Object.prototype, so a component that imports
//     `wasi:cli/environment` with functions named `constructor`, `to-string`, `value-of`,
//     `has-own-property` (jco's camelCase lookup) links against host functions outside §4 —
//     `Object`, `Object.prototype.toString`, … — uncharged instead of failing to link
//     (SANDBOX_VIOLATION). Checked with the pinned jco-transpile 0.15.0 and the CLI's options on a
//     hand-encoded component importing `wasi:cli/environment@0.2.0` with one function
//     `constructor`, lowered and passed to a core instance: jco reports the imports as
//     ['wasi:cli/environment'] (admitted by the sandbox and the CLI) and generates
//     `const { constructor } = imports['wasi:cli/environment']; if (constructor === undefined)
//     throw …` — which our host object satisfies with `Object`.
//
// Suggested fix: charge HOST_CALL_GAS in every resource method (toDebugString included); make the
// exported resource classes refuse construction from outside the host (a private token), or
// charge; build each interface object with a null prototype (Object.create(null) / Object.freeze
// of a null-prototype copy) so only §4 names resolve.
import { describe, expect, it } from 'vitest';
import { createPreview2Host } from '../../src/internal/preview2-host.ts';
import { HOST_CALL_GAS } from '../../src/internal/wasi-preview1.ts';

function setup() {
  let charged = 0;
  const host = createPreview2Host(
    { stdin: new Uint8Array(0), maxOutputBytes: 1024, seed: new Uint8Array(32), virtualTimeMs: 0 },
    (cost) => {
      charged += cost;
    },
  );
  return { imports: host.imports, charged: () => charged };
}

type Ctor = new (...args: unknown[]) => unknown;

describe('red team: I-SANDBOX-3 every preview2 host call a component can link is charged', () => {
  it('[method]error.to-debug-string charges the base', () => {
    const { imports, charged } = setup();
    const out = (imports['wasi:cli/stdout'] as { getStdout(): { write(b: Uint8Array): void } }).getStdout();
    let error: { toDebugString(): string } | undefined;
    try {
      out.write(new Uint8Array(1)); // no check-write first: refused with last-operation-failed(error)
    } catch (e) {
      error = (e as { val: { toDebugString(): string } }).val;
    }
    expect(error).toBeDefined();
    const before = charged();
    for (let i = 0; i < 10; i++) error?.toDebugString();
    // today: 0
    expect(charged() - before).toBeGreaterThanOrEqual(10 * HOST_CALL_GAS);
  });

  it('a resource constructor is refused or charged (jco: `new Pollable(…)` for [constructor]pollable)', () => {
    const { imports, charged } = setup();
    const classes: Array<[string, Ctor]> = [
      ['wasi:io/poll#Pollable', imports['wasi:io/poll']?.Pollable as Ctor],
      ['wasi:io/streams#OutputStream', imports['wasi:io/streams']?.OutputStream as Ctor],
      ['wasi:io/error#Error', imports['wasi:io/error']?.Error as Ctor],
      ['wasi:filesystem/types#Descriptor', imports['wasi:filesystem/types']?.Descriptor as Ctor],
    ];
    for (const [name, C] of classes) {
      const before = charged();
      let refused = false;
      try {
        new C(0, 0);
      } catch {
        refused = true;
      }
      // today: constructed, 0 gas
      expect({ name, paid: refused || charged() - before >= HOST_CALL_GAS }).toEqual({ name, paid: true });
    }
  });

  it('no interface resolves a name outside §4 (inherited Object.prototype members)', () => {
    const { imports } = setup();
    for (const [iface, members] of Object.entries(imports)) {
      for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf']) {
        // today: Object, Object.prototype.toString, … resolve
        expect({ iface, name, type: typeof (members as Record<string, unknown>)[name] }).toEqual({
          iface,
          name,
          type: 'undefined',
        });
      }
    }
  });
});
