// Red team (I-SANDBOX-4, sandbox.md §"Instruction costs"): gas bounds work — "a budget b buys at
// most 16·b bytes of bulk memory work and b / 8 table elements (b / 16 for table.init), whatever
// the loop around them". Active element and data segments do exactly the work of `table.init` /
// `memory.init`, but they run inside `new WebAssembly.Instance(...)`, before the host sets the gas
// counter, and nothing charges them: every call of such a module re-does up to 1 000 000 table
// element writes (the module limit; ~40 ns each per the spec's own measurement) and up to 16 MiB
// of memory copies for a gas_used of a few units. The guest's per-call work is then not bounded by
// its budget at all (with gas = 1 it still does all of it), and gas_used under-reports it. The
// tables themselves are also allocated and initialised at every instantiation for free: ten tables
// of 100 000 elements (the default caps: 100 000 per table, 1 000 000 in all) are what
// `table.grow` would charge 8 000 000 for. Measured here (Node 24, 2 shared cores): ~36 ms of CPU
// per instantiation for the ten empty tables, ~140 ms with ten full active element segments —
// for a gas_used of 1, i.e. some 10 gas per CPU second against the spec's floor of 10^8.
// Global initializers are instructions of the original code too ("every instruction of the
// original code costs 1"), yet 99 000 of them run at every instantiation for free (~17 ms CPU).
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/index.ts';
import { wat } from '../helpers/wat.ts';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.close());

const ELEMENTS = 100_000; // the default per-table cap
const DATA_BYTES = 1 << 20;

/** One active element segment writing ELEMENTS entries of a 100 000-element table at every instantiation. */
const elementModule = () =>
  wat(`(module
    (table ${ELEMENTS} funcref)
    (func $f)
    (elem (i32.const 0) func ${'$f '.repeat(ELEMENTS)})
    (memory (export "memory") 1)
    (func (export "_start")))`);

/** One active data segment copying DATA_BYTES into memory at every instantiation. */
const dataModule = () =>
  wat(`(module
    (memory (export "memory") ${DATA_BYTES / 65536})
    (data (i32.const 0) "${'\\2a'.repeat(DATA_BYTES)}")
    (func (export "_start")))`);

const limits = (gas: number) => ({ gas, timeout_ms: 20_000, max_output_bytes: 1024 });

const TABLES = 10;
/** Ten tables of the default per-table cap: the module limit of 1 000 000 elements in all. */
const tablesModule = () =>
  wat(`(module
    ${Array.from({ length: TABLES }, (_, i) => `(table $t${i} ${ELEMENTS} funcref)`).join(' ')}
    (memory (export "memory") 1)
    (func (export "_start")))`);

const GLOBALS = 99_000; // under the module limit of 100 000
const globalsModule = () =>
  wat(`(module
    ${'(global (mut i64) (i64.const 7)) '.repeat(GLOBALS)}
    (memory (export "memory") 1)
    (func (export "_start")))`);

describe('red team: instantiation work is paid for like the bulk instructions it is', () => {
  it(`${GLOBALS} global initializers cost at least one gas each`, async () => {
    const h = await sandbox.register(await globalsModule());
    const r = await sandbox.run(h, new Uint8Array(0), limits(1e12));
    expect(r.ok).toBe(true);
    expect(r.gas_used).toBeGreaterThanOrEqual(GLOBALS);
  });

  it(`${TABLES} tables of ${ELEMENTS} elements cost at least the table.grow rate (8 per element)`, async () => {
    const h = await sandbox.register(await tablesModule());
    const r = await sandbox.run(h, new Uint8Array(0), limits(1e12));
    expect(r.ok).toBe(true);
    expect(r.gas_used).toBeGreaterThanOrEqual(8 * TABLES * ELEMENTS);
  });

  it(`an active element segment of ${ELEMENTS} entries costs at least the table.init rate (16 per element)`, async () => {
    const h = await sandbox.register(await elementModule());
    const r = await sandbox.run(h, new Uint8Array(0), limits(1e12));
    expect(r.ok).toBe(true);
    // today: gas_used is the empty _start's 1 — 100 000 element writes for free
    expect(r.gas_used).toBeGreaterThanOrEqual(16 * ELEMENTS);
  });

  it('a budget that cannot pay for the element writes ends ERR_COMPUTE_GAS_EXHAUSTED', async () => {
    const h = await sandbox.register(await elementModule());
    const r = await sandbox.run(h, new Uint8Array(0), limits(ELEMENTS));
    expect(r).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
  });

  it(`an active data segment of ${DATA_BYTES} bytes costs at least the memory.init rate (1 per 16 bytes)`, async () => {
    const h = await sandbox.register(await dataModule());
    const r = await sandbox.run(h, new Uint8Array(0), limits(1e12));
    expect(r.ok).toBe(true);
    expect(r.gas_used).toBeGreaterThanOrEqual(DATA_BYTES / 16);
    const poor = await sandbox.run(h, new Uint8Array(0), limits(DATA_BYTES / 32));
    expect(poor).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
  });
});
