// Module limits enforced at registration (normative: docs/spec/sandbox.md §"Module limits").
// Each is below the engine's own limit by at least what the instrumenter appends, so a module that
// passes registration always compiles; together they bound the host memory an instance can take
// and the work registration does (linear in the module's size).

export const MODULE_LIMITS = Object.freeze({
  /** Function types (the instrumenter appends up to 2; V8: 1 000 000). */
  types: 100_000,
  /** Functions, imported + defined (the instrumenter appends up to 2; V8: 1 000 000). */
  functions: 250_000,
  /** Imports of any kind (V8: 100 000). */
  imports: 10_000,
  /** Exports (the instrumenter appends up to 4; V8: 100 000). */
  exports: 10_000,
  /** Globals, imported + defined (the instrumenter appends up to 4; V8: 1 000 000). */
  globals: 100_000,
  /** Tables, imported + defined. */
  tables: 100,
  /** The sum over all tables of their effective maximum is at most this × `maxTableElements`. */
  tableElementsTotalFactor: 10,
  /** Element segments (any mode). */
  elemSegments: 10_000,
  /** Entries over all element segments (V8: 10 000 000 per segment). */
  elemEntries: 1_000_000,
  /** Data segments (V8: 100 000). */
  dataSegments: 10_000,
  /** Parameters + declared locals of one function (the instrumenter adds up to 1; V8: 50 000). */
  locals: 49_000,
  /** Bytes of one function body after instrumentation (V8: 7 654 321). */
  instrumentedBodyBytes: 7_000_000,
  /** Linear-memory pages a memory can have (memory32: 4 GiB); larger caps act as this. */
  memoryPages: 65_536,
  /** Elements a table can have (V8: 10 000 000); larger caps act as this. */
  tableElements: 10_000_000,
});

const MIB = 1024 * 1024;

/** Registration size budget: the instrumented module is at most 4 × the source + 1 MiB. */
export function outputBudget(sourceBytes: number): number {
  return 4 * sourceBytes + MIB;
}

/**
 * Registration work budget, in the instrumenter's work units (one per section entry, decoded
 * instruction per pass, br_table target byte, rewrite point and deferred charge): 8 per source
 * byte + 4096. Every unit consumes at least one source byte in its pass, so the algorithm
 * spends at most 6 per byte; the budget is a backstop that turns any regression into a refusal.
 */
export function workBudget(sourceBytes: number): number {
  return 8 * sourceBytes + 4096;
}
